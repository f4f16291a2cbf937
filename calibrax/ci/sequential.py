"""Verdicts at every look for the interleaved gate: a group-sequential sign test.

The interleaved gate looks at its trials after the first block and again after every further
ABBA block, and stops a case as soon as it is decided. A test run at its fixed-sample level at
each of those looks would lose its error rate to the repeated looks; each case is judged
instead with repeated confidence intervals (Jennison & Turnbull 1989, "Interim analyses: the
repeated confidence interval approach", JRSS B 51; their book "Group Sequential Methods with
Applications to Clinical Trials", 2000, chapters 2, 9 and 12): bounds that hold at every look
of the planned schedule at once, so stopping at any look keeps the error rate.

The observations are paired trials: the k-th baseline trial and the k-th candidate trial of an
ABBA sequence run next to each other (A B, then B A), and ``log(candidate / baseline)`` of their
trial values is one observation, so machine drift cancels within a pair and the
process-to-process variation is in every observation.

Two bounds, each valid at every look, are intersected (by the union bound both hold at once):

- the sign test's, for the median pair ratio, with half of ``alpha`` per direction. The
  number of pairs above the true median is a binomial random walk whatever the noise, so the
  chance that it crosses the test's critical value at any look of the schedule is computed
  exactly (a Pocock-type design: one nominal level at every look, the largest whose crossing
  probability over the schedule is within its share). A trial that ran slow as a whole (a bad
  memory layout, a neighbour for its whole length) moves one sign, never the bound's scale.
  No distribution-free test of ``n`` pairs can reach a level below ``2^-n``, so it needs
  about 10 pairs at ``alpha`` 0.01.
- Yuen's trimmed t (Yuen 1974, "The two-sample trimmed t for unequal population variances",
  Biometrika 61; here its one-sample form, Tukey & McLaughlin 1963) for the 20%-trimmed mean
  log-ratio, with the other half, split evenly over the looks (Bonferroni). Trimming keeps the
  odd far-off pair out of its scale, and it uses the pairs' magnitudes, so it decides from the
  first look where the sign test cannot, and sooner where the pairs are steady. Simulated over
  the default schedule (6 to 30 pairs, 13 looks) at a share of 0.005, its crossing rate was
  0.0030 for normal pairs, 0.0018 with a fifth of them ten times wider, 0.0014 for Laplace and
  0.0009 for Cauchy pairs.

On the trials of ``benchmarks/meta/gate_power.py`` (a 30 ms benchmark, 2 cores) the pair
decided an A/A in fewer trials than the confidence sequences it replaced and caught 5%
slowdowns under a neighbour that they missed.

Each bound is one-sided in each direction, so the two errors a gate can make have their own
rates, as in Jennison & Turnbull's designs with a type I error ``alpha`` and a type II error
``beta``: a false ``regressed`` needs the lower bound to miss (at most ``alpha`` over the
schedule), a false ``pass`` of a change at or beyond the margin the upper one (at most
``beta``). A gate that must rarely fail a good change and may now and then pass a change just
past its margin decides an unchanged benchmark sooner with ``beta`` above ``alpha``. Where the
two intervals do not overlap, the verdict takes their hull.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from calibrax.core.models import VerdictKind

__all__ = ["METHOD", "SIGN_SHARE", "TRIM", "SequentialBound", "binomial_tail", "crossing_probability", "fewest_pairs",
           "look_schedule", "nominal_level", "sequential_bound", "sequential_kind", "sign_bounds", "trimmed_t_bounds"]

METHOD = "group-sequential sign test and trimmed t (repeated confidence intervals, Jennison & Turnbull 2000)"
SIGN_SHARE = 0.5
"""The share of ``alpha`` spent on the sign test; the trimmed t gets the rest."""
TRIM = 0.2
"""The share of pairs trimmed from each end for the trimmed t."""


def look_schedule(trials: int, max_trials: int) -> tuple[int, ...]:
    """The trials per side at each look: after ``trials``, then after every ABBA block (2 per
    side) up to ``max_trials``.

    Example:
        >>> look_schedule(6, 12)
        (6, 8, 10, 12)
        >>> look_schedule(6, 11)
        (6, 8, 10, 11)
    """
    if not 1 <= trials <= max_trials:
        raise ValueError(f"need 1 <= trials <= max_trials, got trials={trials}, max_trials={max_trials}")
    looks = list(range(trials, max_trials + 1, 2))
    if looks[-1] != max_trials:
        looks.append(max_trials)
    return tuple(looks)


@lru_cache(maxsize=256)
def binomial_tail(n: int) -> tuple[float, ...]:
    """``P(Bin(n, 1/2) >= c)`` for ``c = 0 .. n + 1``, exact.

    Example:
        >>> binomial_tail(3)
        (1.0, 0.875, 0.5, 0.125, 0.0)
    """
    counts = [math.comb(n, j) for j in range(n + 1)]
    total = 2 ** n
    tail, out = 0, [0.0]
    for c in counts[::-1]:
        tail += c
        out.append(tail / total)
    return tuple(out[::-1])


def _critical(n: int, level: float) -> int:
    """The smallest count ``c`` with ``P(Bin(n, 1/2) >= c) <= level`` (``n + 1``: none)."""
    return next(c for c, p in enumerate(binomial_tail(n)) if p <= level)


def crossing_probability(looks: Sequence[int], level: float) -> float:
    """The chance that the count of positive signs reaches the sign test's critical value at
    ``level`` at any of the ``looks`` when each sign is a fair coin: exact, by carrying the
    count's distribution from look to look and removing what has crossed.

    Example:
        >>> crossing_probability([10], 0.011)  # one look: the test's own level, 11/1024
        0.0107421875
        >>> crossing_probability([10, 20], 0.011) > 0.011
        True
    """
    dist = np.zeros(1)
    dist[0] = 1.0
    done, crossed = 0, 0.0
    for n in looks:
        for _ in range(n - done):  # one more sign: count stays or grows by one
            dist = np.concatenate([dist, [0.0]]) * 0.5 + np.concatenate([[0.0], dist]) * 0.5
        done = n
        c = _critical(n, level)
        crossed += float(dist[c:].sum())
        dist[c:] = 0.0
    return crossed


@lru_cache(maxsize=256)
def nominal_level(looks: tuple[int, ...], alpha: float) -> float:
    """The Pocock-type nominal level of the sign test: the largest level, used at every look,
    whose crossing probability over ``looks`` (:func:`crossing_probability`) is at most
    ``alpha``. The sign test's levels are discrete, so the answer is one of its tail
    probabilities; looks too early to ever reject spend nothing.

    Example:
        >>> lvl = nominal_level((6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), 0.009)
        >>> round(lvl, 5), crossing_probability((6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), lvl) <= 0.009
        (0.00331, True)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"need 0 < alpha < 1, got {alpha}")
    candidates = sorted({p for n in looks for p in binomial_tail(n) if 0 < p <= alpha})
    best, low, high = 0.0, 0, len(candidates) - 1
    while low <= high:  # crossing grows with the level: the largest candidate that keeps alpha
        mid = (low + high) // 2
        if crossing_probability(looks, candidates[mid]) <= alpha:
            best, low = candidates[mid], mid + 1
        else:
            high = mid - 1
    return best


def fewest_pairs(looks: tuple[int, ...], alpha: float) -> int | None:
    """The fewest pairs at which the sign test can reach a verdict on ``looks`` at ``alpha``
    (its share of it); None if no look can.

    Example:
        >>> fewest_pairs(look_schedule(6, 30), 0.009)
        10
        >>> fewest_pairs(look_schedule(5, 6), 0.009) is None
        True
    """
    level = nominal_level(looks, alpha)
    return next((n for n in looks if binomial_tail(n)[n] <= level), None)


def sign_bounds(values: Sequence[float], level: float) -> tuple[float, float]:
    """Bounds on the median of ``values`` from the sign test at one-sided ``level`` per
    direction: the ``c``-th largest and the ``c``-th smallest value, ``c`` the test's critical
    count (``-inf``/``inf`` where no count is extreme enough).

    Example:
        >>> sign_bounds([0.01 * i for i in range(1, 11)], 0.001)
        (0.01, 0.1)
        >>> sign_bounds([0.01 * i for i in range(1, 11)], 0.011)
        (0.02, 0.09)
        >>> sign_bounds([0.1, 0.2], 0.01)
        (-inf, inf)
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = int(x.size)
    c = _critical(n, level)
    if c > n or c == 0:
        return -math.inf, math.inf
    return float(x[n - c]), float(x[c - 1])


@lru_cache(maxsize=1024)
def _t_quantile(level: float, df: int) -> float:
    from scipy.stats import t  # only when a gate judges (keeps the CLI's start light)

    return float(t.isf(level, df))


def trimmed_t_bounds(values: Sequence[float], level: float, trim: float = TRIM) -> tuple[float, float]:
    """Bounds on the trimmed mean of ``values`` at one-sided ``level`` per direction (Yuen's
    trimmed t, one sample): the mean of the values left after ``floor(trim n)`` are cut from
    each end, its standard error from the winsorized variance, ``s_w / ((1 - 2 trim) sqrt(n))``,
    and Student's t with ``h - 1`` degrees of freedom, ``h`` the values kept.

    Example:
        >>> low, high = trimmed_t_bounds([0.05, 0.049, 0.051, 0.05, 0.6, 0.048, 0.052, -0.4, 0.05, 0.05], 0.001)
        >>> 0.04 < low < 0.05 < high < 0.06
        True
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = int(x.size)
    cut = math.floor(trim * n)
    kept = x[cut:n - cut]
    winsorized = np.clip(x, kept[0], kept[-1])
    se = float(winsorized.std(ddof=1)) / ((1 - 2 * trim) * math.sqrt(n))
    half = _t_quantile(level, int(kept.size) - 1) * se
    centre = float(kept.mean())
    return centre - half, centre + half


@dataclass(frozen=True)
class SequentialBound:
    """The bounds at one look: the median pair ratio (worse > 1) and its repeated confidence
    interval; ``level`` is the sign test's nominal level at each look for the lower bound."""

    ratio: float
    low: float
    high: float
    pairs: int
    level: float


def _interval(x: np.ndarray, error: float, looks: tuple[int, ...]) -> tuple[float, float, float]:
    """(low, high, sign test level): both bounds at one-sided ``error`` over ``looks``."""
    level = nominal_level(looks, SIGN_SHARE * error)
    sign_low, sign_high = sign_bounds(x.tolist(), level)
    t_low, t_high = trimmed_t_bounds(x.tolist(), (1 - SIGN_SHARE) * error / len(looks))
    low, high = max(sign_low, t_low), min(sign_high, t_high)
    if low > high:  # the two disagree: skewed pairs, or one of them missed
        low, high = min(sign_low, t_low), max(sign_high, t_high)
    return low, high, level


def sequential_bound(log_ratios: Sequence[float], alpha: float, looks: tuple[int, ...],
                     beta: float | None = None) -> SequentialBound | None:
    """The median pair ratio and its repeated confidence interval from paired log-ratios (None
    below 2 pairs): the sign test's bounds at ``SIGN_SHARE`` of the error over ``looks`` and the
    trimmed t's at the rest, split over the looks, intersected (their hull where they do not
    meet). The lower bound misses with chance at most ``alpha`` over the schedule, the upper one
    with chance at most ``beta`` (``alpha`` when None).

    Example:
        >>> looks = look_schedule(6, 30)
        >>> b = sequential_bound([0.1, 0.11, 0.09, 0.1, 0.1, 0.1], 0.01, looks)  # a steady 10%: the trimmed t
        >>> round(b.ratio, 3), b.low > 1.05
        (1.105, True)
        >>> x = [0.05, 0.04, 0.06] * 6 + [-0.4, 0.5]  # two trials slow as a whole: the sign test
        >>> sequential_bound(x, 0.01, looks).low > 1.03
        True
    """
    x = np.asarray(log_ratios, dtype=float)
    if x.size < 2:
        return None
    low, high, level = _interval(x, alpha, looks)
    if beta is not None and beta != alpha:
        high = _interval(x, beta, looks)[1]
    return SequentialBound(math.exp(float(np.median(x))), math.exp(low), math.exp(high), int(x.size), level)


def sequential_kind(bound: SequentialBound, margin: float) -> tuple[VerdictKind, str] | None:
    """The decision the bounds allow now, or None while they straddle the margin.

    ``regressed`` when the lower bound clears ``1 + margin``; ``improved`` when the upper bound
    is below ``1 / (1 + margin)``; ``pass`` when the upper bound is below ``1 + margin``.

    Example:
        >>> sequential_kind(SequentialBound(1.0, 0.995, 1.004, 10, 0.003), 0.01)[0].value
        'pass'
        >>> sequential_kind(SequentialBound(1.0, 0.98, 1.02, 10, 0.003), 0.01) is None
        True
    """
    ci = f"median pair ratio {bound.ratio:.3f}, repeated CI [{bound.low:.3f}, {bound.high:.3f}]"
    if bound.low > 1 + margin:
        return VerdictKind.REGRESSED, f"{ci}: worse beyond the {margin:.0%} margin"
    if bound.high < 1 / (1 + margin):
        return VerdictKind.IMPROVED, f"{ci}: better beyond the {margin:.0%} margin"
    if bound.high < 1 + margin:
        return VerdictKind.PASS, f"{ci}: within the {margin:.0%} margin"
    return None
