"""Absolute bounds on measures gate without a baseline."""

from __future__ import annotations

import jax.numpy as jnp

from calibrax.analysis import GatePolicy, threshold_verdicts
from calibrax.core import CaseResult, CaseStatus, VerdictKind
from calibrax.metrics import compute_metrics, parse_metric_specs

OUTPUTS = {"predictions": jnp.array([0, 1, 1, 0, 1]), "targets": jnp.array([0, 1, 0, 0, 1])}


def test_absolute_bounds_gate_without_a_baseline() -> None:
    measures = compute_metrics("b", OUTPUTS, parse_metric_specs("b", ["accuracy"]))
    case = CaseResult("b", {}, CaseStatus.OK, measures)
    strict = GatePolicy.from_config({}, per_benchmark={"b": {"accuracy": {"min": 0.9}}})
    loose = GatePolicy.from_config({}, per_benchmark={"b": {"accuracy": {"min": 0.5}}})
    [v] = threshold_verdicts([case], strict)
    assert v.kind is VerdictKind.REGRESSED and "below the minimum 0.9" in v.message
    assert [v.kind for v in threshold_verdicts([case], loose)] == [VerdictKind.PASS]
    assert threshold_verdicts([case], GatePolicy()) == []  # no bounds declared: nothing to judge
