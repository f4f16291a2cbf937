"""The validation: block of a benchmark read into frozen typed checks, series from a Workload,
and the checks made on the cases (convergence with max_steps and rate, values, missing series)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from typing import Any

import pytest
from factories import time_case

from calibrax.core import BenchmarkError, CaseStatus, ConfigError, Workload
from calibrax.validation import (
    ConvergenceCheckConfig,
    gating_violations,
    judge_validation,
    parse_validation,
    series_of,
    validation_entries,
)


def conv(**kw: Any) -> dict[str, Any]:
    return {"type": "convergence", "series": "loss", "tolerances": [0.1], **kw}


@pytest.mark.parametrize(
    "block, match",
    [
        ({"checks": [{"type": "convergance"}]}, "Unknown check type 'convergance'. Did you mean 'convergence'?"),
        ({"checks": [conv(tolerance=[1])]}, r"checks\[0\]: Unknown key 'tolerance'. Did you mean 'tolerances'\?"),
        ({"checks": [conv(max_steps="many")]}, r"checks\[0\].max_steps must be of type"),
        ({"checks": [conv(rate="quadratic")]}, "Unknown rate 'quadratic'. Known rates: linear, sublinear, superlinear"),
        ({"checks": [conv(tolerances=[-1.0])]}, "tolerances must be a non-empty list of positive numbers"),
        ({"checks": [{"type": "convergence", "tolerances": [0.1]}]}, "needs 'series'"),
        ({"checks": ["loss"]}, r"checks\[0\] must be a mapping with a 'type'"),
        ({"checks": [{"type": "accuracy", "measure": "accuracy"}]}, "either 'measure' and 'reference'"),
        ({"checks": [{"type": "accuracy", "measure": "a", "reference": 1, "output": "x"}]}, "got \\['measure', 'reference', 'output'\\]"),
        ({"checks": [{"type": "accuracy", "measure": "a", "reference": 1, "better": "more"}]}, "Unknown choice 'more'"),
        ({"gate": "maybe"}, "validation.gate must be of type"),
        ({"gates": True}, "Unknown key 'gates'. Did you mean 'gate'?"),
        ({"checks": [conv(max_steps=-1)]}, "max_steps must be a step number >= 0, got -1"),
        ({"checks": [{"type": "accuracy", "measure": "a", "reference": 1, "margin": -0.1}]}, "margin must be >= 0"),
        ({"checks": [{"type": "accuracy", "measure": "a", "reference": 1, "referense_params": {}}]},
         "Unknown key 'referense_params'. Did you mean 'reference_params'"),
        ({"checks": [{"tolerances": [0.1]}]}, r"checks\[0\] needs 'type': one of convergence, accuracy"),
    ],
)
def test_bad_blocks_are_config_errors_naming_the_file_and_key(block: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        parse_validation("b", block, "Benchmark config conf/benchmark/b.yaml")
    assert str(info.value).startswith("Benchmark config conf/benchmark/b.yaml: ")


def test_a_good_block_splits_checks_by_where_they_run() -> None:
    spec = parse_validation("b", {"gate": True, "checks": [
        conv(max_steps=50, rate="linear"),
        {"type": "accuracy", "output": "return", "reference_params": {"dtype": "float64"}, "max_ulps": 4},
        {"type": "accuracy", "measure": "accuracy", "reference": 0.9, "better": "higher"},
    ]})
    assert spec is not None and spec.gate
    assert [i for i, _ in spec.convergence] == [0] and [i for i, _ in spec.values] == [2]
    assert spec.output_checks()[0]["reference_params"] == {"dtype": "float64"}
    assert parse_validation("b", {"gate": True}) is None  # no checks: nothing to do


def test_series_become_json_lists() -> None:
    import jax.numpy as jnp

    assert series_of("b", lambda: {"loss": jnp.array([2.0, 1.0, jnp.inf])}) == {"loss": [2.0, 1.0, None]}
    assert series_of("b", None) == {}
    with pytest.raises(BenchmarkError, match=r"series 'loss' must be 1-D .* shape \(2, 2\)"):
        series_of("b", {"loss": [[1, 2], [3, 4]]})
    with pytest.raises(BenchmarkError, match="must give a mapping"):
        series_of("b", lambda: [1, 2])
    with pytest.raises(BenchmarkError, match="Workload.series must be a mapping"):
        Workload(sum, series=[1.0, 0.5])


def _case(params: dict, series: dict | None, status: CaseStatus = CaseStatus.OK) -> Any:
    case = time_case("b", params, 1e-3, status=status)
    return case if series is None else replace(case, series=series)


def test_convergence_max_steps_rate_and_missing_series() -> None:
    geometric = [0.5**k for k in range(40)]
    spec = parse_validation("b", {"gate": True, "checks": [
        conv(tolerances=[1e-3], max_steps=5),
        conv(tolerances=[1e-3], rate="sublinear"),
        conv(series="acc"),
        {"type": "accuracy", "measure": "time", "reference": 1e-3, "better": "lower", "margin": 0.1, "relative": True},
    ]}, "b.yaml")
    assert spec is not None
    cases = [_case({"lr": 0.5}, {"loss": geometric, "grad": [1.0]}), _case({"lr": 9}, None, CaseStatus.ERROR)]
    late, wrong_rate, missing, timed = validation_entries({"b": spec}, cases)  # the failed case is not checked
    assert not late.passed and "met 0.001 at step 10, after max_steps=5" in late.message
    assert late.figures["status"] == "converged" and late.figures["max_steps"] == 5
    assert not wrong_rate.passed and "its rate is linear, not the expected sublinear" in wrong_rate.message
    assert not missing.passed and "returns series grad, loss" in missing.message and "b.yaml" in missing.message
    assert timed.passed and timed.kind == "accuracy" and timed.figures["params"] == {"lr": 0.5}
    assert [e.name for e in gating_violations([late, wrong_rate, missing, timed])] == ["b[lr=0.5] loss", "b[lr=0.5] loss", "b[lr=0.5] acc"]


def test_judge_validation_gathers_a_report_that_gates_as_declared() -> None:
    cases = [_case({"lr": 0.5}, {"loss": [0.5**k for k in range(40)]})]
    spec = parse_validation("b", {"gate": True, "checks": [conv(tolerances=[1e-3])]})
    assert spec is not None
    report = judge_validation("r1", {"b": spec}, cases)
    assert report is not None and report.gate and report.passed and report.run_id == "r1"
    assert judge_validation("r1", {}, cases) is None  # nothing declared: no report


def test_checks_are_frozen_typed_records() -> None:
    spec = parse_validation("b", {"checks": [conv(max_steps=5)]})
    assert spec is not None
    [(_, check)] = spec.convergence
    assert isinstance(check, ConvergenceCheckConfig) and check.max_steps == 5
    with pytest.raises(FrozenInstanceError):
        check.max_steps = 6  # type: ignore[misc]


