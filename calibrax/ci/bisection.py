"""Find the first commit that made a benchmark slower, with the three-valued verdict.

The measuring is supplied by the caller: ``compare(older, newer)`` re-measures two commits
side by side (interleaved trials, with more trials while undecided) and returns the verdict
for the newer one. Both ends are re-tested first, so a bisection never starts from a
regression that is not there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from calibrax.core.errors import ConfigError
from calibrax.core.models import Verdict, VerdictKind

__all__ = ["BisectResult", "BisectStep", "bisect", "worst"]

CompareFn = Callable[[str, str], Verdict]


@dataclass(frozen=True)
class BisectStep:
    """One comparison made while bisecting: ``newer`` measured against ``older``."""

    older: str
    newer: str
    verdict: Verdict


@dataclass(frozen=True)
class BisectResult:
    """The first bad commit (None when the ends show no regression) and how it was found.

    ``effect`` is the first bad commit measured against its parent.
    """

    first_bad: str | None
    last_good: str | None
    effect: Verdict | None
    steps: tuple[BisectStep, ...]
    message: str


_ORDER = [VerdictKind.REGRESSED, VerdictKind.UNSTABLE, VerdictKind.INCONCLUSIVE, VerdictKind.MISSING,
          VerdictKind.INCOMPARABLE, VerdictKind.PASS, VerdictKind.IMPROVED]


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict that matters most for bisecting: a regression, else an undecided one.

    Raises:
        ConfigError: no verdicts (the benchmark produced no comparable cases).
    """
    if not verdicts:
        raise ConfigError("The comparison produced no verdicts: the benchmark ran no gated case on either commit.")
    return min(verdicts, key=lambda v: (_ORDER.index(v.kind), -(v.ratio or 0.0)))


def expected_steps(n_commits: int) -> int:
    """Comparisons a bisection of ``n_commits`` usually makes: the ends, one per halving, and
    the first bad commit against its parent (an undecided midpoint adds one; a pair measured
    already, such as two commits' ends and effect, is not measured again).

    Example:
        >>> expected_steps(2), expected_steps(5), expected_steps(17)
        (1, 4, 6)
    """
    if n_commits <= 2:
        return 1
    return 2 + math.ceil(math.log2(n_commits - 1))


def bisect(commits: Sequence[str], compare: CompareFn, on_step: Callable[[BisectStep], None] | None = None,
           on_compare: Callable[[int, int, str, str], None] | None = None) -> BisectResult:
    """Bisect ``commits`` (oldest first: the known-good end, ..., the known-bad end).

    Each midpoint is measured against the good end. An undecided midpoint is also measured
    against the bad end: if the bad end is still slower than it, the change came later.
    ``on_compare(step, expected, older, newer)`` hears each comparison before it is measured
    and ``on_step`` its verdict after. A pair already measured is not measured again: where the
    first bad commit follows the good end, its midpoint verdict is also its effect.

    Raises:
        ConfigError: fewer than two commits.
    """
    if len(commits) < 2:
        raise ConfigError(f"Bisecting needs a good and a later bad commit, got {list(commits)}.")
    steps: list[BisectStep] = []
    expected = expected_steps(len(commits))

    def run(older: str, newer: str) -> Verdict:
        for done in steps:
            if (done.older, done.newer) == (older, newer):
                return done.verdict
        if on_compare is not None:
            on_compare(len(steps) + 1, max(expected, len(steps) + 1), older, newer)
        step = BisectStep(older, newer, compare(older, newer))
        steps.append(step)
        if on_step is not None:
            on_step(step)
        return step.verdict

    good, bad = commits[0], commits[-1]
    ends = run(good, bad)
    if ends.kind is not VerdictKind.REGRESSED:
        return BisectResult(None, None, None, tuple(steps),
                            f"{bad[:12]} is not slower than {good[:12]} on re-test ({ends.kind.value}: {ends.message}).")
    lo, hi = 0, len(commits) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        verdict = run(good, commits[mid])
        if verdict.kind is VerdictKind.REGRESSED:
            hi = mid
        elif verdict.kind in (VerdictKind.PASS, VerdictKind.IMPROVED):
            lo = mid
        else:
            lo, hi = (mid, hi) if run(commits[mid], bad).kind is VerdictKind.REGRESSED else (lo, mid)
    effect = run(commits[hi - 1], commits[hi])
    return BisectResult(commits[hi], commits[hi - 1], effect, tuple(steps),
                        f"First bad commit {commits[hi][:12]}: {effect.kind.value} against its parent, {effect.message}.")
