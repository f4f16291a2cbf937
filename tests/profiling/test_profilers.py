"""Profiler selection, the session and failing profilers; every registered profiler also passes
calibrax.testing.ProfilerConformance (tests/testing/test_profiler_conformance.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import pytest

from calibrax.core import BenchmarkSpec, CaseStatus, ConfigError, MeasureResult, Workload
from calibrax.profiling import (
    PROFILERS,
    BaseProfiler,
    ProfileContext,
    ProfileOutput,
    ProfilerSession,
    ProfilingOptions,
    TimingProtocol,
    measure_profiled,
    register_profiler,
    resolve_profilers,
)
from calibrax.runner.execute import run_case

FAST = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)


def _workload() -> Workload:
    return Workload(jax.jit(lambda x: jnp.tanh(x @ x).sum()), args=(jnp.ones((64, 64)),))


def _profile(names: tuple[str, ...], options: ProfilingOptions | None = None) -> tuple[dict[str, MeasureResult], dict[str, Any]]:
    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    opts = options or ProfilingOptions(profilers=names)
    measure_profiled(_workload(), FAST, ProfileContext("t", {}, opts), into=into, meta=meta)
    return into, meta


def test_all_selects_every_profiler_and_the_runner_steps() -> None:
    names, steps = resolve_profilers(["all"])
    assert set(names) == {n for n in PROFILERS.names() if getattr(PROFILERS.get(n), "in_all", True)}
    assert names.index("flops") < names.index("roofline") and names.index("energy") < names.index("carbon")
    assert steps == ("timing", "complexity")
    assert resolve_profilers(None) == ((), ("timing",))


def test_an_unknown_profiler_is_a_config_error_with_close_matches() -> None:
    with pytest.raises(ConfigError, match=r"Unknown profiler 'flop'\. Did you mean 'flops'"):
        resolve_profilers(["timing", "flop"])


class _Exploding(BaseProfiler):
    name = "test_exploding"

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        raise RuntimeError("sensor on fire")


class _Counting(BaseProfiler):
    name = "test_counting"

    rounds_started = False

    def start(self, workload: Workload) -> None:
        _Counting.rounds_started = True

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        if "time" not in measures:
            return ProfileOutput()
        calls = measures["time"].meta["calls_per_round"] * measures["time"].meta["rounds"]
        return ProfileOutput({"calls": MeasureResult(measures["time"].measure, (float(calls),))}, {}, {"seen": True})


@pytest.fixture
def test_profilers() -> Any:
    register_profiler(_Exploding)
    register_profiler(_Counting)
    _Counting.rounds_started = False
    yield
    _Counting.rounds_started = False
    PROFILERS.unregister(_Exploding.name)
    PROFILERS.unregister(_Counting.name)


def test_a_failing_profiler_is_recorded_and_never_fails_the_case(test_profilers: None) -> None:
    spec = BenchmarkSpec("tiny", lambda: _workload())
    case = run_case(spec, {}, FAST, ProfilingOptions(profilers=("test_exploding", "test_counting", "resources")))
    assert case.status is CaseStatus.OK
    assert "sensor on fire" in case.profiler_errors["test_exploding"]
    assert case.measures["calls"].samples[0] >= 3
    assert case.meta["profiling"]["test_counting"] == {"seen": True}
    assert "peak_rss" in case.measures


def test_profilers_are_collected_when_the_rounds_raise(test_profilers: None) -> None:
    def flaky() -> int:
        if _Counting.rounds_started:  # set by the profiler's start, just before the rounds
            raise ValueError("broke in the rounds")
        return 1

    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    options = ProfilingOptions(profilers=("test_counting", "resources"))
    with pytest.raises(ValueError, match="broke in the rounds"):
        measure_profiled(Workload(flaky), FAST, ProfileContext(options=options), into=into, meta=meta)
    assert "peak_rss" in into and meta["profiling"]["resources"]


def test_a_session_that_never_started_collects_nothing() -> None:
    session = ProfilerSession(("resources",), ProfileContext())
    assert session.stop({}).measures == {}


def test_no_profilers_means_timing_only() -> None:
    into, meta = _profile(())
    assert set(into) == {"time", "trace_time", "lower_time", "compile_time"}
    assert "unavailable" not in meta and "profiling" not in meta
