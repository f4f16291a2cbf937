"""between_run_test and the stored gate's history-aware verdict: run medians against a history."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calibrax.analysis import AnalysisError, GatePolicy, Pair, judge
from calibrax.analysis.regression import run_level
from calibrax.analysis.run_noise import MIN_HISTORY_RUNS, RunLevel, between_run_test, noise_model_label
from calibrax.core import STANDARD_MEASURES, VerdictKind

POLICY = GatePolicy.from_config({"measures": {"time": {"margin": 0.05, "alpha": 0.01}}})
# The story: a 30 ms benchmark that typically takes 35.5 ms between runs (about 3% run
# to run), whose stored baseline run happened to take 32.2 ms.
TYPICAL = (35.1, 36.4, 34.6, 35.9, 35.3, 36.8, 34.9, 35.7, 36.0)
FAST_BASELINE = 32.2


def _level(median: float, rel: float = 0.004) -> RunLevel:
    return RunLevel(median, median * (1 - rel), median * (1 + rel))


def _samples(center: float, seed: int, n: int = 30) -> tuple[float, ...]:
    rng = np.random.default_rng(seed)
    return tuple(float(v) for v in center * (1 + 0.005 * rng.standard_normal(n)))


def _pair(baseline: float, candidate: float, history: tuple[RunLevel, ...] | None,
          runs: tuple[RunLevel, ...] = ()) -> Pair:
    return Pair("conv", {"n": 1}, STANDARD_MEASURES["time"], _samples(baseline, 1), _samples(candidate, 2),
                history=history, candidate_runs=runs)


def test_a_fast_baseline_is_a_false_alarm_without_history_and_not_with_it() -> None:
    without = judge([_pair(FAST_BASELINE, 35.5, ())], POLICY)[0]
    assert without.kind is VerdictKind.REGRESSED
    assert without.details["noise_model"] == "within-run only"

    history = (*(_level(m) for m in TYPICAL), _level(FAST_BASELINE))
    [verdict] = judge([_pair(FAST_BASELINE, 35.5, history)], POLICY)
    assert not verdict.failed and verdict.kind is VerdictKind.INCONCLUSIVE, verdict.message
    assert verdict.ci_low is not None and verdict.ci_low < 1.0 < verdict.ci_high  # type: ignore[operator]
    assert verdict.details["noise_model"] == "history of 10 runs"
    assert "(noise: history of 10 runs)" in verdict.message
    assert verdict.details["baseline_run_median"] == pytest.approx(FAST_BASELINE, rel=0.01)
    assert verdict.baseline == pytest.approx(35.2, rel=0.01)  # the history's level, not the fast run
    assert verdict.ratio == pytest.approx(verdict.candidate / verdict.baseline)  # type: ignore[operator]


def test_the_same_level_as_a_steady_history_passes() -> None:
    history = tuple(_level(m) for m in (35.4, 35.6, 35.5, 35.3, 35.7, 35.5, 35.6, 35.4, 35.5, 35.6))
    [verdict] = judge([_pair(35.5, 35.6, history)], POLICY)
    assert verdict.kind is VerdictKind.PASS, verdict.message


def test_a_real_slowdown_beyond_the_history_noise_is_regressed() -> None:
    history = tuple(_level(m) for m in TYPICAL)
    [verdict] = judge([_pair(35.5, 35.5 * 1.25, history)], POLICY)
    assert verdict.kind is VerdictKind.REGRESSED, verdict.message
    assert verdict.ci_low is not None and verdict.ci_low > 1.05


def test_a_slowdown_within_the_history_noise_is_inconclusive_not_regressed() -> None:
    history = tuple(_level(m) for m in TYPICAL)
    [verdict] = judge([_pair(35.5, 35.5 * 1.07, history)], POLICY)
    assert verdict.kind is VerdictKind.INCONCLUSIVE, verdict.message


def test_a_too_short_history_keeps_the_within_run_verdict() -> None:
    short = tuple(_level(m) for m in TYPICAL[:MIN_HISTORY_RUNS - 1])
    with_short = judge([_pair(FAST_BASELINE, 35.5, short)], POLICY)[0]
    assert with_short.kind is VerdictKind.REGRESSED
    assert with_short.details["noise_model"] == "within-run only"


def test_the_interleaved_gate_names_no_noise_model() -> None:
    [verdict] = judge([Pair("conv", {}, STANDARD_MEASURES["time"], _samples(1.0, 1), _samples(1.0, 2), noise=0.0)],
                      POLICY)
    assert "noise_model" not in verdict.details


def test_the_between_run_spread_is_learnt_from_the_history() -> None:
    levels = [_level(m, rel=0.0) for m in TYPICAL]
    out = between_run_test(levels, [_level(35.5, rel=0.0)])
    assert out.between_cv == pytest.approx(float(np.std(np.log(TYPICAL), ddof=1)))
    assert out.df == len(TYPICAL) - 1
    assert out.history_runs == 9 and out.candidate_runs == 1 and out.noise_model == "history of 9 runs"
    # Wide per-run CIs explain the spread: no between-run part is left.
    assert between_run_test([_level(m, rel=0.2) for m in TYPICAL], [_level(35.5)]).between_cv == 0.0


def test_candidate_repeats_with_their_own_spread_widen_the_interval() -> None:
    history = [_level(m) for m in TYPICAL]
    steady = between_run_test(history, [_level(35.5), _level(35.6), _level(35.4)])
    scattered = between_run_test(history, [_level(30.0), _level(35.5), _level(42.0)])
    assert steady.noise_model == "history of 9 runs, 3 candidate runs"
    assert scattered.ci_high - scattered.ci_low > steady.ci_high - steady.ci_low
    assert scattered.df < steady.df == len(TYPICAL) - 1  # Welch-Satterthwaite once their spread enters


def test_higher_is_better_measures_are_oriented_so_above_one_is_worse() -> None:
    history = [_level(m) for m in (100.0, 101.0, 99.0, 100.5)]
    assert between_run_test(history, [_level(80.0)], higher_is_better=True).ratio > 1.2
    assert between_run_test(history, [_level(80.0)]).ratio < 0.85


def test_runs_without_a_ci_count_their_whole_spread_as_between_runs() -> None:
    bare = [RunLevel(m) for m in TYPICAL]
    assert bare[0].log_variance() is None
    out = between_run_test(bare, [RunLevel(35.5)])
    assert out.between_cv == pytest.approx(float(np.std(np.log(TYPICAL), ddof=1)))
    assert out.ci_low < 1 < out.ci_high


def test_identical_runs_give_a_degenerate_but_valid_test() -> None:
    same = [RunLevel(2.0)] * 4
    assert between_run_test(same, [RunLevel(2.0)]).p_value == 1.0
    assert between_run_test(same, [RunLevel(3.0)]).p_value == 0.0


@pytest.mark.parametrize(("history", "candidate", "message"), [
    ([RunLevel(1.0)] * 2, [RunLevel(1.0)], "at least 3 history runs"),
    ([RunLevel(1.0)] * 4, [], "positive finite candidate"),
    ([RunLevel(1.0), RunLevel(0.0), RunLevel(1.0)], [RunLevel(1.0)], "positive finite history"),
    ([RunLevel(1.0)] * 4, [RunLevel(math.nan)], "positive finite candidate"),
])
def test_bad_input_is_an_analysis_error(history: list[RunLevel], candidate: list[RunLevel], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        between_run_test(history, candidate)


def test_the_false_alarm_rate_holds_when_runs_follow_the_model() -> None:
    """A/A comparisons drawn from the model: p < 0.01 about 1% of the time, and never far above."""
    rng = np.random.default_rng(7)
    tau, w = 0.03, 0.005
    alarms = 0
    trials = 800
    for _ in range(trials):
        logs = 3.5 + tau * rng.standard_normal(11) + w * rng.standard_normal(11)
        levels = [RunLevel(math.exp(v), math.exp(v - 1.96 * w), math.exp(v + 1.96 * w)) for v in logs]
        alarms += between_run_test(levels[:10], levels[10:]).p_value < 0.01
    assert alarms / trials < 0.025


def test_the_label_and_the_run_level_of_samples() -> None:
    assert noise_model_label(2) == "within-run only"
    assert noise_model_label(3, 2) == "history of 3 runs, 2 candidate runs"
    level = run_level([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert level.median == 4.0 and level.ci_low is not None and level.ci_low <= 4.0 <= level.ci_high  # type: ignore[operator]
