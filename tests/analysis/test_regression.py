"""The verdict at its boundaries, table-driven; rules for deterministic and quality measures."""

from __future__ import annotations

import numpy as np
import pytest

from calibrax.analysis import GatePolicy, MeasureRule, Pair, decide, judge
from calibrax.core import STANDARD_MEASURES, ConfigError, Direction, Measure, VerdictKind

TIME = STANDARD_MEASURES["time"]
RULE = MeasureRule(margin=0.05, alpha=0.01)


@pytest.mark.parametrize(
    "ratio, lo, hi, p, p_adj, cv, expected",
    [
        (1.10, 1.06, 1.14, 1e-4, 1e-3, 0.01, VerdictKind.REGRESSED),  # significant, CI above 1+m
        (1.10, 1.05, 1.14, 1e-4, 1e-3, 0.01, VerdictKind.INCONCLUSIVE),  # CI touches 1+m exactly
        (1.10, 1.06, 1.14, 0.02, 0.03, 0.01, VerdictKind.INCONCLUSIVE),  # p above alpha
        (1.10, 1.06, 1.14, 1e-4, 0.06, 0.01, VerdictKind.INCONCLUSIVE),  # BH-adjusted above fdr
        (1.10, 1.06, 1.14, 1e-4, 1e-3, 0.026, VerdictKind.UNSTABLE),  # CV above m/2, within 1 + 3 CV
        (1.93, 1.85, 2.00, 1e-4, 1e-3, 0.03, VerdictKind.REGRESSED),  # noisy, but far beyond its noise
        (1.00, 0.98, 1.049, 0.5, 0.6, 0.01, VerdictKind.PASS),  # CI below 1+m
        (1.00, 0.98, 1.049, 0.5, 0.6, 0.2, VerdictKind.PASS),  # a noisy case may still pass
        (0.80, 0.76, 0.94, 1e-4, 1e-3, 0.01, VerdictKind.IMPROVED),  # CI below 1/(1+m)
        (0.90, 0.85, 0.96, 1e-4, 1e-3, 0.01, VerdictKind.PASS),  # better, not beyond the margin
        (1.03, 0.99, 1.08, 0.2, 0.3, 0.04, VerdictKind.UNSTABLE),  # undecided and noisy
    ],
)
def test_decide_boundaries(ratio: float, lo: float, hi: float, p: float, p_adj: float, cv: float,
                           expected: VerdictKind) -> None:
    assert decide(ratio, lo, hi, p, p_adj, cv, RULE, 0.05)[0] is expected


def _lognormal(center: float, cv: float, n: int, seed: int) -> tuple[float, ...]:
    return tuple(center * np.random.default_rng(seed).lognormal(0.0, cv, n))


def _pair(base: float, cand: float, *, cv: float = 0.01, n: int = 30, measure: Measure = TIME, seed: int = 0) -> Pair:
    return Pair("b", {"n": seed}, measure, _lognormal(base, cv, n, seed), _lognormal(cand, cv, n, seed + 1000))


def test_judge_detects_a_real_slowdown_and_passes_noise() -> None:
    policy = GatePolicy()
    slow, same = judge([_pair(1.0, 1.10), _pair(1.0, 1.0, seed=1)], policy)
    assert slow.kind is VerdictKind.REGRESSED and slow.ratio == pytest.approx(1.10, rel=0.01)
    assert slow.ci_low is not None and slow.ci_high is not None and slow.ci_low < slow.ratio < slow.ci_high
    assert same.kind is VerdictKind.PASS
    assert slow.p_adjusted is not None and slow.p_adjusted >= slow.p_value  # type: ignore[operator]


def test_higher_is_better_measures_are_oriented() -> None:
    tput = STANDARD_MEASURES["throughput"]
    [v] = judge([_pair(100.0, 80.0, measure=tput)], GatePolicy(gate=("throughput",)))
    assert v.kind is VerdictKind.REGRESSED and v.ratio == pytest.approx(1.25, rel=0.02)


def test_benjamini_hochberg_spans_the_suite() -> None:
    # One mildly significant case among many null cases is not significant after BH.
    pairs = [_pair(1.0, 1.0, seed=s, n=8) for s in range(40)]
    verdicts = judge(pairs, GatePolicy())
    raw = [v.p_value for v in verdicts]
    adj = [v.p_adjusted for v in verdicts]
    assert all(a >= r for a, r in zip(adj, raw, strict=True))  # type: ignore[operator]
    assert not any(v.kind is VerdictKind.REGRESSED for v in verdicts)


@pytest.mark.parametrize(
    "pair, kind",
    [
        (Pair("b", {}, TIME, None, (1.0,) * 10), VerdictKind.MISSING),
        (Pair("b", {}, TIME, (1.0,) * 10, None), VerdictKind.MISSING),
        (Pair("b", {}, TIME, (1.0,) * 10, (2.0,) * 10, comparable=False), VerdictKind.INCOMPARABLE),
        (Pair("b", {}, TIME, (1.0,) * 3, (2.0,) * 3), VerdictKind.INCONCLUSIVE),
    ],
)
def test_cases_that_cannot_be_judged_never_fail(pair: Pair, kind: VerdictKind) -> None:
    [v] = judge([pair], GatePolicy())
    assert v.kind is kind and not v.failed


FLOPS = STANDARD_MEASURES["flops"]
BYTES = STANDARD_MEASURES["bytes_accessed"]
ACC = Measure("accuracy", "1", Direction.HIGHER)


@pytest.mark.parametrize(
    "measure, rule, base, cand, kind",
    [
        (FLOPS, MeasureRule(rule="exact"), 100.0, 100.0, VerdictKind.PASS),
        (FLOPS, MeasureRule(rule="exact"), 100.0, 101.0, VerdictKind.REGRESSED),  # info: any change
        (BYTES, MeasureRule(rule="relative", margin=0.01), 100.0, 100.5, VerdictKind.PASS),
        (BYTES, MeasureRule(rule="relative", margin=0.01), 100.0, 102.0, VerdictKind.REGRESSED),
        (BYTES, MeasureRule(rule="relative", margin=0.01), 100.0, 98.0, VerdictKind.REGRESSED),  # info
        (ACC, MeasureRule(rule="absolute", min=0.9), 0.95, 0.91, VerdictKind.PASS),
        (ACC, MeasureRule(rule="absolute", min=0.9), 0.95, 0.89, VerdictKind.REGRESSED),
        (ACC, MeasureRule(rule="absolute", max_drop=0.02), 0.95, 0.94, VerdictKind.PASS),
        (ACC, MeasureRule(rule="absolute", max_drop=0.02), 0.95, 0.92, VerdictKind.REGRESSED),
        (ACC, MeasureRule(rule="absolute", max_drop=0.02), 0.90, 0.99, VerdictKind.PASS),
        (Measure("ece", "1", Direction.LOWER), MeasureRule(rule="absolute", max=0.05), 0.01, 0.06, VerdictKind.REGRESSED),
    ],
)
def test_deterministic_and_quality_rules(measure: Measure, rule: MeasureRule, base: float, cand: float,
                                         kind: VerdictKind) -> None:
    policy = GatePolicy(gate=(measure.name,), measures={measure.name: rule})
    [v] = judge([Pair("b", {}, measure, (base,), (cand,))], policy)
    assert v.kind is kind, v.message


def test_absolute_bounds_need_no_baseline() -> None:
    policy = GatePolicy(gate=("accuracy",), measures={"accuracy": MeasureRule(rule="absolute", min=0.9)})
    [v] = judge([Pair("b", {}, ACC, None, (0.5,))], policy)
    assert v.kind is VerdictKind.REGRESSED and "below the minimum 0.9" in v.message


def test_policy_from_config_merges_benchmark_rules() -> None:
    p = GatePolicy.from_config(
        {"gate": ["time"], "fdr": 0.1, "measures": {"time": {"margin": 0.05, "alpha": 0.005}},
         "benchmarks": {"mm": {"time": {"margin": 0.2}}}},
        per_benchmark={"clf": {"accuracy": {"min": 0.8}}},
    )
    assert p.fdr == 0.1
    assert p.rule("mm", "time") == MeasureRule(margin=0.2, alpha=0.005)
    assert p.rule("clf", "accuracy").rule == "absolute" and p.gated("clf") == ["time", "accuracy"]


@pytest.mark.parametrize(
    "cfg, match",
    [
        ({"measures": {"time": {"margin": -1}}}, r"thresholds.measures.time.margin must be a number in \[0.0"),
        ({"measures": {"time": {"alpha": 2}}}, r"thresholds.measures.time.alpha must be a number in \[0.0, 1.0\]"),
        ({"measures": {"time": {"beta": 0.7}}}, r"thresholds.measures.time.beta must be a number in \[0.0, 0.5\]"),
        ({"measures": {"time": {"beta": 0}}}, r"thresholds.measures.time.beta must be above 0 .* 0.1 passes"),
        ({"measures": {"time": {"rule": "fuzzy"}}}, "rule must be statistical, exact, relative or absolute"),
        ({"measures": {"time": {"margn": 0.1}}}, r"unknown setting\(s\) \['margn'\]"),
        ({"measures": {"acc": {"rule": "absolute"}}}, "an absolute rule needs min, max or max_drop"),
        ({"fdr": "x"}, "thresholds.fdr must be a number"),
    ],
)
def test_bad_policies_are_config_errors(cfg: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GatePolicy.from_config(cfg)


def test_independent_trial_values_skip_the_unstable_rule() -> None:
    noisy = _pair(1.0, 1.15, cv=0.06, n=30, seed=3)
    [default] = judge([noisy], GatePolicy())
    [trials] = judge([Pair(noisy.benchmark, noisy.params, TIME, noisy.baseline, noisy.candidate, noise=0.0)], GatePolicy())
    assert default.kind is VerdictKind.UNSTABLE
    assert trials.kind is VerdictKind.REGRESSED
