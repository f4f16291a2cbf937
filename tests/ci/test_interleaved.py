"""The ABBA schedule and trial extension, driven by a synthetic measuring function.

Real trials in worker processes and git worktrees are exercised in tests/e2e.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from calibrax.analysis import GatePolicy
from calibrax.ci.interleaved import CaseRef, TrialStatistic, abba_order, run_interleaved, trial_value
from calibrax.core import STANDARD_MEASURES, ConfigError, VerdictKind

TIME = (STANDARD_MEASURES["time"],)


def _measure(effects: Mapping[str, float], noise: Mapping[str, float], calls: list[tuple[str, tuple[str, ...]]]):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)

    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        calls.append((arm, tuple(c.key for c in cases)))
        scale = {c.key: effects.get(c.key, 1.0) if arm == "B" else 1.0 for c in cases}
        return {c.key: {"time": scale[c.key] * float(rng.lognormal(0, noise.get(c.key, 0.005)))} for c in cases}

    return measure


def test_abba_order() -> None:
    assert "".join(abba_order(4)) == "ABBAABBA"
    assert "".join(abba_order(1)) == "AB"


def test_clear_cases_are_decided_in_the_first_block() -> None:
    cases = [CaseRef("slow", "b", {}, TIME), CaseRef("same", "b", {}, TIME)]
    calls: list[tuple[str, tuple[str, ...]]] = []
    res = run_interleaved(_measure({"slow": 1.2}, {}, calls), cases, GatePolicy(), trials=10, max_trials=30)
    kinds = {v.benchmark + str(i): v.kind for i, v in enumerate(res.verdicts)}
    assert list(kinds.values()) == [VerdictKind.REGRESSED, VerdictKind.PASS]
    assert len(calls) == 20 and "".join(a for a, _ in calls[:4]) == "ABBA"
    assert len(res.trials["slow"]["time"]["A"]) == 10


def test_undecided_cases_get_more_trials_up_to_the_limit() -> None:
    cases = [CaseRef("noisy", "b", {}, TIME), CaseRef("same", "b", {}, TIME)]
    calls: list[tuple[str, tuple[str, ...]]] = []
    res = run_interleaved(_measure({"noisy": 1.05}, {"noisy": 0.01}, calls), cases, GatePolicy(), trials=6, max_trials=12)
    extra = [keys for _, keys in calls[12:]]
    assert extra and all(keys == ("noisy",) for keys in extra)  # only the undecided case is re-measured
    assert len(res.trials["noisy"]["time"]["A"]) == 12 and len(res.trials["same"]["time"]["A"]) == 6
    assert len(res.verdicts) == 2


def test_failed_trials_read_as_missing() -> None:
    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        return {} if arm == "A" else {c.key: {"time": 1.0} for c in cases}

    [v] = run_interleaved(measure, [CaseRef("k", "b", {}, TIME)], GatePolicy(), trials=5, max_trials=5).verdicts
    assert v.kind is VerdictKind.MISSING


@pytest.mark.parametrize("trials, max_trials", [(4, 30), (20, 10)])
def test_bad_trial_counts(trials: int, max_trials: int) -> None:
    with pytest.raises(ConfigError, match="ci.trials must be at least 5"):
        run_interleaved(lambda a, c: {}, [], GatePolicy(), trials=trials, max_trials=max_trials)


def test_an_a_a_comparison_stops_early_with_a_pass() -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []
    res = run_interleaved(_measure({}, {"same": 0.003}, calls), [CaseRef("same", "b", {}, TIME)], GatePolicy(),
                          trials=6, max_trials=50)
    [v] = res.verdicts
    assert v.kind is VerdictKind.PASS and res.stopped_at["same"] < 50 and len(calls) < 100
    assert "repeated confidence intervals" in v.message and f"after {res.stopped_at['same']} trials per side" in v.message
    assert v.details["trials_per_side"] == res.stopped_at["same"] and v.ci_high is not None and v.ci_high < 1.05
    assert res.elapsed >= res.decided_after["same"] >= 0


def test_a_five_percent_slowdown_is_regressed_at_the_first_look() -> None:
    policy = GatePolicy.from_config({"measures": {"time": {"margin": 0.01, "alpha": 0.01}}})
    res = run_interleaved(_measure({"slow": 1.05}, {"slow": 0.01}, []), [CaseRef("slow", "b", {}, TIME)],
                          policy, trials=6, max_trials=50)
    [v] = res.verdicts
    assert v.kind is VerdictKind.REGRESSED and v.ci_low is not None and v.ci_low > 1.01
    assert res.stopped_at["slow"] <= 10


def test_a_faster_candidate_is_improved() -> None:
    [v] = run_interleaved(_measure({"fast": 0.8}, {}, []), [CaseRef("fast", "b", {}, TIME)], GatePolicy(),
                          trials=5, max_trials=10).verdicts
    assert v.kind is VerdictKind.IMPROVED


def test_higher_is_better_measures_are_judged_the_other_way_round() -> None:
    tput = (STANDARD_MEASURES["throughput"],)

    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        return {c.key: {"throughput": 0.8 if arm == "B" else 1.0} for c in cases}

    [v] = run_interleaved(measure, [CaseRef("k", "b", {}, tput)], GatePolicy(), trials=5, max_trials=10).verdicts
    assert v.kind is VerdictKind.REGRESSED and v.ratio is not None and v.ratio > 1.2


def test_optional_stopping_keeps_the_false_alarm_rate_at_the_margin() -> None:
    # The true slowdown sits exactly on the 1% margin: "regressed" is then a false alarm, and
    # looking after every block must not push its rate above alpha (0.01: 3 of 300 expected at
    # most, 3 standard errors of slack).
    policy = GatePolicy.from_config({"measures": {"time": {"margin": 0.01, "alpha": 0.01}}})
    alarms = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)

        def measure(arm: str, cases: Sequence[CaseRef], rng: np.random.Generator = rng) -> dict[str, dict[str, float]]:
            return {c.key: {"time": (1.01 if arm == "B" else 1.0) * float(rng.lognormal(0, 0.01))} for c in cases}

        [v] = run_interleaved(measure, [CaseRef("k", "b", {}, TIME)], policy, trials=5, max_trials=40).verdicts
        alarms += v.kind is VerdictKind.REGRESSED
    assert alarms <= 3 + 3 * math.sqrt(3 * 0.99)


def test_optional_stopping_keeps_the_false_pass_rate_at_the_margin_within_beta() -> None:
    # The same sequences seen from the other side: with the slowdown on the margin, "pass" is
    # the error that beta bounds (0.1: 20 of 200 expected at most, 3 standard errors of slack),
    # and a slowdown of twice the margin passes far more rarely still.
    policy = GatePolicy.from_config({"measures": {"time": {"margin": 0.01, "alpha": 0.01, "beta": 0.1}}})
    passed = {1.01: 0, 1.02: 0}
    for slower in passed:
        for seed in range(200):
            rng = np.random.default_rng(seed)

            def measure(arm: str, cases: Sequence[CaseRef], rng: np.random.Generator = rng,
                        slower: float = slower) -> dict[str, dict[str, float]]:
                return {c.key: {"time": (slower if arm == "B" else 1.0) * float(rng.lognormal(0, 0.01))} for c in cases}

            [v] = run_interleaved(measure, [CaseRef("k", "b", {}, TIME)], policy, trials=5, max_trials=30).verdicts
            passed[slower] += v.kind is VerdictKind.PASS
            assert v.details["beta"] == 0.1
    assert passed[1.01] <= 20 + 3 * math.sqrt(200 * 0.1 * 0.9)
    assert passed[1.02] <= 2 + 3 * math.sqrt(2 * 0.99)


def test_a_case_failing_on_one_side_in_some_trials_is_paired_on_the_rest() -> None:
    count = {"n": 0}

    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        count["n"] += 1
        return {} if arm == "B" and count["n"] == 2 else {c.key: {"time": 1.0} for c in cases}

    res = run_interleaved(measure, [CaseRef("k", "b", {}, TIME)], GatePolicy(), trials=5, max_trials=5)
    [v] = res.verdicts
    assert v.kind is VerdictKind.PASS and v.details["pairs"] == 4 and len(res.trials["k"]["time"]["B"]) == 4


def test_rounds_for_precision_is_bounded() -> None:
    from calibrax.ci import rounds_for_precision

    assert rounds_for_precision([], 0.005) == 100
    assert rounds_for_precision([1.0] * 10, 0.005) == 5
    assert rounds_for_precision([1.0, 1.05, 0.95, 1.0, 1.02], 0.005, high=40) == 40
    assert rounds_for_precision([1.0, 1.02, 0.98, 1.01, 0.99], 0.005) == 14


def _interfered(arm: str, rng: np.random.Generator, slowdown: float) -> list[float]:
    """One trial's 20 rounds: the code's own time (a steady 1.0, times ``slowdown`` on the
    candidate, with 0.2% jitter) plus interference that only ever adds time, hitting a random
    share of the rounds (0 to 100%) by 30%, as a neighbour on a shared machine does."""
    own = (slowdown if arm == "B" else 1.0) * rng.lognormal(0, 0.002, 20)
    hit = rng.random(20) < rng.random()
    return list(own * np.where(hit, 1.3, 1.0))


@pytest.mark.parametrize("statistic, caught", [(TrialStatistic.best, True), (TrialStatistic.median, False)])
def test_the_best_round_sees_through_interference_that_only_adds_time(statistic: TrialStatistic, caught: bool) -> None:
    policy = GatePolicy.from_config({"measures": {"time": {"margin": 0.01, "alpha": 0.01}}})
    rng = np.random.default_rng(3)

    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        rounds = _interfered(arm, rng, 1.05)
        return {c.key: {"time": trial_value(rounds, TIME[0].direction, statistic)} for c in cases}

    res = run_interleaved(measure, [CaseRef("k", "b", {}, TIME)], policy, trials=6, max_trials=20, statistic=statistic)
    [v] = res.verdicts
    assert (v.kind is VerdictKind.REGRESSED) is caught, v.message
    assert res.statistic is statistic and v.details["trial_statistic"] == statistic.value
    assert f"each trial judged by its {statistic.label}" in v.message


def test_a_trial_without_rounds_has_no_value() -> None:
    with pytest.raises(ValueError, match="no round samples"):
        trial_value([], TIME[0].direction, TrialStatistic.best)
