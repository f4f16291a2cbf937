"""The ABBA schedule and trial extension, driven by a synthetic measuring function.

Real trials in worker processes and git worktrees are exercised in tests/e2e.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from calibrax.analysis import GatePolicy
from calibrax.ci.interleaved import CaseRef, abba_order, run_interleaved
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
