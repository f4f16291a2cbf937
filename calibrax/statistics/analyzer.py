"""Per-measure summaries of benchmark samples.

Benchmark times are right-skewed, so the centre is the median and the spread is the IQR and
the normal-scaled MAD; the confidence interval of the median is distribution-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from calibrax.core.models import Summary

__all__ = ["bootstrap_ci", "median_ci", "outlier_counts", "summarize"]

_NORMAL_MAD = 0.6744897501960817  # the standard normal's 3/4 quantile: MAD / this estimates sigma


def _binomial_half_quantile(q: float, n: int) -> int:
    """The smallest ``k`` with ``P(K <= k) >= q`` for ``K ~ Binomial(n, 1/2)``, as
    ``scipy.stats.binom.ppf(q, n, 0.5)`` gives it, from the probabilities in log space.

    numpy and ``math.lgamma`` only: every run summarises its samples, and importing
    ``scipy.special`` took 0.2 to 0.3 s of each ``calibrax-run`` here; a run that gates nothing
    needs none of scipy.

    Example:
        >>> _binomial_half_quantile(0.025, 100)
        40
    """
    k = np.arange(n + 1)
    log_factorial = np.fromiter((math.lgamma(i + 1) for i in range(n + 1)), float, n + 1)
    cdf = np.cumsum(np.exp(log_factorial[n] - log_factorial[k] - log_factorial[n - k] - n * math.log(2.0)))
    target = q * (1 - 1e-12)  # an exact tie (P(K <= (n-1)/2) = 1/2 for odd n) computes a hair low
    return min(int(np.searchsorted(cdf, target)), n)  # the first k whose P(K <= k) reaches it


def median_ci(values: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The interval is ``[x_(j), x_(k)]`` with ``j, k`` from the Binomial(n, 1/2) quantiles, so its
    coverage is at least ``level`` whatever the distribution. With fewer than 6 samples the
    interval cannot reach 95% and the full range is returned.

    Example:
        >>> median_ci([float(i) for i in range(1, 101)])
        (40.0, 61.0)

    References:
        Conover, Practical Nonparametric Statistics (3rd ed., 1999), section 3.2.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        raise ValueError("median_ci needs at least one value, got none.")
    alpha = 1.0 - level
    j = _binomial_half_quantile(alpha / 2, n)  # 1-based rank of the lower bound
    lo, hi = max(j - 1, 0), min(n - j, n - 1)  # symmetric: upper rank is n - j + 1
    return float(x[lo]), float(x[hi])


def outlier_counts(values: ArrayLike) -> tuple[int, int]:
    """Count outliers by Tukey's fences (1.5 IQR) and by modified z-score (|M| > 3.5).

    Outliers are only counted, never dropped: a slow tail is part of what was measured.

    Example:
        >>> outlier_counts([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 9.0])
        (1, 1)

    References:
        Tukey, Exploratory Data Analysis (1977); Iglewicz and Hoaglin, How to Detect and Handle
        Outliers (1993), the modified z-score M = 0.6745 (x - median) / MAD.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 3:
        return 0, 0
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    fence = 1.5 * (q3 - q1)
    tukey = int(np.count_nonzero((x < q1 - fence) | (x > q3 + fence)))
    mad = float(np.median(np.abs(x - med)))
    modz = int(np.count_nonzero(np.abs(0.6745 * (x - med) / mad) > 3.5)) if mad > 0 else 0
    return tukey, modz


def bootstrap_ci(
    data: ArrayLike | tuple[ArrayLike, ...],
    statistic: Callable[..., Any] = np.median,
    *,
    level: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap confidence interval of ``statistic``, seeded and vectorised.

    ``data`` is one sample, or a tuple of samples for a statistic of several (e.g. a ratio of
    medians ``lambda a, b, axis: np.median(a, axis) / np.median(b, axis)``). ``statistic`` must
    accept ``axis=``. With fewer than 3 values in a sample, or when every resample gives the
    same value, the interval collapses to the statistic itself.

    Example:
        >>> lo, hi = bootstrap_ci(np.arange(1.0, 101.0))
        >>> bool(lo < 50.5 < hi)
        True

    References:
        Efron, Better Bootstrap Confidence Intervals, JASA 82 (1987) (BCa);
        scipy.stats.bootstrap.
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    samples = data if isinstance(data, tuple) else (data,)
    arrays = tuple(np.asarray(a, dtype=float) for a in samples)
    point = float(statistic(*arrays, axis=-1))
    if min(a.size for a in arrays) < 3 or all(np.ptp(a) == 0 for a in arrays):
        return point, point
    res = stats.bootstrap(
        arrays, statistic, vectorized=True, paired=False, confidence_level=level,
        n_resamples=n_resamples, method=method, rng=np.random.default_rng(seed),
    )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # BCa degenerates on near-constant data
        return point, point
    return lo, hi


def summarize(values: ArrayLike, level: float = 0.95) -> Summary:
    """Summarise samples: median, mean, range, std, IQR, MAD, the median's CI, outliers.

    Example:
        >>> s = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
        >>> s.median, s.min, s.max
        (3.0, 1.0, 100.0)
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("summarize needs at least one sample, got none.")
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    lo, hi = median_ci(x, level)
    tukey, modz = outlier_counts(x)
    return Summary(
        n=int(x.size),
        median=float(med),
        mean=float(x.mean()),
        min=float(x.min()),
        max=float(x.max()),
        std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
        iqr=float(q3 - q1),
        mad=float(np.median(np.abs(x - med)) / _NORMAL_MAD) if x.size > 1 else 0.0,
        ci_low=lo,
        ci_high=hi,
        ci_level=level,
        outliers_tukey=tukey,
        outliers_modz=modz,
    )
