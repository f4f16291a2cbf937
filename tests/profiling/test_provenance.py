"""Every stored figure says whether it was measured, derived or modelled, and from what; a
profiler's None, NaN or empty reading is refused as unavailable, never stored."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import pytest

from calibrax.core import Basis, BenchmarkSpec, MeasureResult, Workload, measure_for
from calibrax.profiling import PROFILERS, BaseProfiler, ProfileOutput, ProfilingOptions, TimingProtocol
from calibrax.runner.execute import run_case

FAST = TimingProtocol(min_rounds=2, min_time=0, warmup_time=0, min_round_time=0.0001)


class _Reporting(BaseProfiler):
    name = "test_reporting"

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        return ProfileOutput(measures={
            "counter": MeasureResult(measure_for("counter", "J"), (3.0,), meta={"basis": "measured"}),
            "guess": MeasureResult(measure_for("guess", "1"), (0.5,), meta={"basis": "modelled", "source": "a formula"}),
            "nothing": MeasureResult(measure_for("nothing", "1"), ()),
            "not_a_number": MeasureResult(measure_for("not_a_number", "1"), (math.nan,)),
        })


@pytest.fixture()
def reporting() -> Iterator[None]:
    PROFILERS.register(_Reporting.name, _Reporting)
    yield
    PROFILERS.unregister(_Reporting.name)


def test_a_reading_that_failed_is_unavailable_and_the_rest_say_their_basis(reporting: None) -> None:
    spec = BenchmarkSpec("tiny", lambda: Workload(sum, args=([1, 2],)))
    case = run_case(spec, {}, FAST, ProfilingOptions(profilers=("test_reporting",)))
    assert "nothing" not in case.measures and "no sample" in case.unavailable["nothing"]
    assert "not_a_number" not in case.measures and "nan" in case.unavailable["not_a_number"]
    assert case.measures["counter"].provenance.basis is Basis.MEASURED
    assert case.measures["counter"].provenance.source == "test_reporting"
    guess = case.measures["guess"].provenance
    assert guess.basis is Basis.MODELLED and guess.source == "a formula"
    assert case.measures["time"].provenance.basis is Basis.MEASURED
    assert case.measures["time"].provenance.source == "timed rounds"


def test_standard_measures_declare_their_usual_basis() -> None:
    assert measure_for("roofline_efficiency").basis is Basis.DERIVED
    assert measure_for("carbon").basis is Basis.MODELLED
    assert measure_for("flops").basis is Basis.MODELLED
    assert measure_for("peak_rss").basis is Basis.MEASURED
    assert MeasureResult(measure_for("throughput"), (1.0,)).provenance.basis is Basis.DERIVED
