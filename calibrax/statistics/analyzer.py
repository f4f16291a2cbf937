"""Per-measure summaries of benchmark samples.

Benchmark times are right-skewed, so the centre is the median and the spread is the IQR and
the normal-scaled MAD; the confidence interval of the median is distribution-free.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from calibrax.core.models import Summary

__all__ = ["median_ci", "summarize"]


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
    j = int(stats.binom.ppf(alpha / 2, n, 0.5))  # 1-based rank of the lower bound
    lo, hi = max(j - 1, 0), min(n - j, n - 1)  # symmetric: upper rank is n - j + 1
    return float(x[lo]), float(x[hi])


def summarize(values: ArrayLike, level: float = 0.95) -> Summary:
    """Summarise samples: median, mean, range, std, IQR, MAD and the median's CI.

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
    return Summary(
        n=int(x.size),
        median=float(med),
        mean=float(x.mean()),
        min=float(x.min()),
        max=float(x.max()),
        std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
        iqr=float(q3 - q1),
        mad=float(stats.median_abs_deviation(x, scale="normal")) if x.size > 1 else 0.0,
        ci_low=lo,
        ci_high=hi,
        ci_level=level,
    )
