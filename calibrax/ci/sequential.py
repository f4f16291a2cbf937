"""Always-valid verdicts for the interleaved gate: confidence sequences for the paired log-ratios.

The interleaved gate looks at its trials after every ABBA block and stops a case as soon as it
is decided, so a fixed-sample test would lose its error rate to the repeated looks. Each case is
judged instead with confidence sequences: intervals that hold at every look at once with
probability at least ``1 - alpha``, however often one looks and whenever one stops.

The observations are paired trials: the k-th baseline trial and the k-th candidate trial of an
ABBA sequence run next to each other (A B, then B A), and ``log(candidate / baseline)`` of their
trial values is one observation, so machine drift cancels within a pair and the
process-to-process variation is in every observation.

Two sequences bound the centre of those log-ratios, each at ``alpha / 2``, and the verdict uses
where they overlap (by the union bound, both hold at once with probability at least
``1 - alpha``):

- the mean: a two-sided asymptotic confidence sequence (Waudby-Smith, Arnold, Wu, Howard &
  Ramdas 2021, "Time-uniform central limit theory and asymptotic confidence sequences", the
  normal-mixture boundary of their Theorem 2.2). It is asymptotic: with the standard deviation
  estimated from few pairs it covers less than it claims (about 7.5% misses for a 95% sequence
  looked at from 5 pairs on), so the estimate is scaled by Student's small-sample factor
  ``t_{n-1}(1 - alpha/2) / z(1 - alpha/2)``, which tends to 1 as pairs come in and brings the
  misses below ``alpha`` from 5 pairs on (simulated: 4.2% at 0.05, 0.7% at 0.01, 50 looks);
- the median: a nonparametric sequence from the sign test (the quantile sequences of Howard &
  Ramdas 2022, "Sequential estimation of quantiles with applications to A/B-testing and
  best-arm identification", here with the normal-mixture boundary for the count of
  observations below the median, a sum of steps in ``[-1/2, 1/2]``, so sub-Gaussian with
  scale 1/2). It is exact at every sample size and ignores how far off an odd pair lies: a
  trial that ran slow as a whole (a bad memory layout, a noisy neighbour for its whole length)
  moves the mean's sequence but not the median's.

Where the two do not overlap (asymmetric noise, or one of them missed), the verdict takes their
hull. The geometric-mean ratio of trial values is reported as the effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from calibrax.core.models import VerdictKind

__all__ = ["METHOD", "SequentialBound", "cs_half_width", "median_sequence", "mixture_rho", "sequential_bound",
           "sequential_kind", "small_sample_factor"]

METHOD = "confidence sequences for the mean (Waudby-Smith et al. 2021) and median (Howard & Ramdas 2022)"


def mixture_rho(alpha: float, t_star: int) -> float:
    """The mixture's tuning parameter that makes the boundary tightest after ``t_star`` pairs
    (the paper's closed-form choice).

    Example:
        >>> round(mixture_rho(0.01, 12), 3)
        0.98
    """
    if not 0 < alpha < 1 or t_star < 1:
        raise ValueError(f"need 0 < alpha < 1 and t_star >= 1, got alpha={alpha}, t_star={t_star}")
    two_log = -2 * math.log(alpha)
    return math.sqrt((two_log + math.log(two_log + 1)) / t_star)


def cs_half_width(sd: float, t: int, alpha: float, rho: float) -> float:
    """Half-width of the two-sided normal-mixture confidence sequence for a mean after ``t``
    observations with standard deviation ``sd``:
    ``sd * sqrt(2 (t rho^2 + 1) / (t^2 rho^2) * log(sqrt(t rho^2 + 1) / alpha))``.

    Example:
        >>> round(cs_half_width(0.01, 12, 0.01, mixture_rho(0.01, 12)), 5)
        0.01031
    """
    v = t * rho * rho + 1
    return sd * math.sqrt(2 * v / (t * t * rho * rho) * math.log(math.sqrt(v) / alpha))


@lru_cache(maxsize=4096)
def small_sample_factor(n: int, alpha: float) -> float:
    """Student's ``t_{n-1}(1 - alpha/2) / z(1 - alpha/2)``: how much wider a t interval is than a
    normal one at ``n`` observations.

    Example:
        >>> round(small_sample_factor(5, 0.01), 2), round(small_sample_factor(1000, 0.01), 2)
        (1.79, 1.0)
    """
    from scipy.stats import norm, t  # only when a gate judges (keeps the CLI's start light)

    return float(t.ppf(1 - alpha / 2, n - 1) / norm.ppf(1 - alpha / 2))


@dataclass(frozen=True)
class SequentialBound:
    """The confidence sequence at one look: the geometric-mean ratio (worse > 1) and its bounds."""

    ratio: float
    low: float
    high: float
    pairs: int
    sd: float


def median_sequence(values: Sequence[float], alpha: float, t_star: int) -> tuple[float, float]:
    """Always-valid bounds on the median of ``values`` (``-inf``/``inf`` while too few to bound).

    For the true median ``m``, ``#{x_i <= m} - t/2`` is a sum of ``t`` independent zero-mean
    steps in ``[-1/2, 1/2]``, so the two-sided normal mixture bounds its share ``F_t(m) - 1/2``
    by ``u_t = cs_half_width(1/2, t, alpha, rho)`` at every ``t`` at once. The values ``m``
    not excluded by that run from the ``ceil(t (1/2 - u_t))``-th smallest value to the
    ``(floor(t (1/2 + u_t)) + 1)``-th.

    Example:
        >>> median_sequence([0.05] * 3 + [0.04, 0.06] * 6, 0.01, 15)
        (0.04, 0.06)
        >>> median_sequence([0.05, 0.04, 0.06], 0.01, 3)
        (-inf, inf)
    """
    x = np.sort(np.asarray(values, dtype=float))
    t = int(x.size)
    if t == 0:
        return -math.inf, math.inf
    u = cs_half_width(0.5, t, alpha, mixture_rho(alpha, t_star))
    low_rank, high_rank = math.ceil(t * (0.5 - u)), math.floor(t * (0.5 + u)) + 1
    low = float(x[low_rank - 1]) if low_rank >= 1 else -math.inf
    high = float(x[high_rank - 1]) if high_rank <= t else math.inf
    return low, high


def sequential_bound(log_ratios: Sequence[float], alpha: float, t_star: int) -> SequentialBound | None:
    """The ratio and its always-valid bounds from paired log-ratios (None below 2 pairs): where
    the mean's and the median's sequences, each at ``alpha / 2``, overlap (their hull where they
    do not); ``sd`` is the sample standard deviation times :func:`small_sample_factor`.

    Example:
        >>> b = sequential_bound([0.1, 0.11, 0.09, 0.1, 0.1, 0.1], 0.01, 6)
        >>> round(b.ratio, 3), b.low > 1.05
        (1.105, True)
        >>> b = sequential_bound([0.05, 0.04, 0.06] * 6 + [-0.4, 0.5], 0.01, 20)  # two trials slow as a whole
        >>> b.low > 1.03
        True
    """
    x = np.asarray(log_ratios, dtype=float)
    if x.size < 2:
        return None
    half = alpha / 2
    mean, sd = float(x.mean()), float(x.std(ddof=1)) * small_sample_factor(int(x.size), half)
    w = cs_half_width(sd, int(x.size), half, mixture_rho(half, t_star))
    mean_low, mean_high = mean - w, mean + w
    median_low, median_high = median_sequence(x.tolist(), half, t_star)
    low, high = max(mean_low, median_low), min(mean_high, median_high)
    if low > high:  # the two disagree: asymmetric pairs, or one sequence missed
        low, high = min(mean_low, median_low), max(mean_high, median_high)
    return SequentialBound(math.exp(mean), math.exp(low), math.exp(high), int(x.size), sd)


def sequential_kind(bound: SequentialBound, margin: float) -> tuple[VerdictKind, str] | None:
    """The decision the sequence allows now, or None while it straddles the margin.

    ``regressed`` when the lower bound clears ``1 + margin``; ``improved`` when the upper bound
    is below ``1 / (1 + margin)``; ``pass`` when the upper bound is below ``1 + margin``.

    Example:
        >>> sequential_kind(SequentialBound(1.0, 0.995, 1.004, 6, 0.003), 0.01)[0].value
        'pass'
        >>> sequential_kind(SequentialBound(1.0, 0.98, 1.02, 6, 0.02), 0.01) is None
        True
    """
    ci = f"geometric-mean ratio {bound.ratio:.3f}, always-valid CI [{bound.low:.3f}, {bound.high:.3f}]"
    if bound.low > 1 + margin:
        return VerdictKind.REGRESSED, f"{ci}: worse beyond the {margin:.0%} margin"
    if bound.high < 1 / (1 + margin):
        return VerdictKind.IMPROVED, f"{ci}: better beyond the {margin:.0%} margin"
    if bound.high < 1 + margin:
        return VerdictKind.PASS, f"{ci}: within the {margin:.0%} margin"
    return None
