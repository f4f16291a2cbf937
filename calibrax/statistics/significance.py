"""Two-sample tests, effect sizes and multiple-comparison corrections.

Conventions: ``a`` is the baseline sample, ``b`` the candidate. Effects are stated for ``b``
relative to ``a`` (a ratio above 1 means the candidate's values are larger).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from calibrax.statistics.analyzer import bootstrap_ci

__all__ = [
    "Effect",
    "TestResult",
    "benjamini_hochberg",
    "cliffs_delta",
    "cliffs_label",
    "cohens_d",
    "hedges_g",
    "hodges_lehmann",
    "holm",
    "mann_whitney",
    "permutation_test",
    "ratio_of_medians",
    "welch_t",
]


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its two-sided p-value."""

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float


@dataclass(frozen=True)
class Effect:
    """A point estimate with its confidence interval."""

    estimate: float
    ci_low: float
    ci_high: float
    level: float = 0.95


def _pair(a: ArrayLike, b: ArrayLike, need: int = 1) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or x.size < need or y.size < need:
        raise ValueError(
            f"Two 1-D samples of at least {need} values are needed, got shapes {x.shape} and {y.shape}."
        )
    return x, y


def mann_whitney(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Two-sided Mann-Whitney U test of ``a`` against ``b``; U is ``b``'s statistic.

    Example:
        >>> round(mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p_value, 4)
        0.0079

    References:
        Mann and Whitney, Ann. Math. Statist. 18 (1947); scipy.stats.mannwhitneyu.
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    x, y = _pair(a, b)
    res = stats.mannwhitneyu(y, x, alternative="two-sided")
    return TestResult(float(res.statistic), float(res.pvalue))


def welch_t(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Welch's unequal-variance t test (two-sided); t is positive when ``b``'s mean is larger.

    Example:
        >>> round(welch_t([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]).statistic, 6)
        3.674235

    References:
        Welch, Biometrika 34 (1947); scipy.stats.ttest_ind(equal_var=False).
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    x, y = _pair(a, b, need=2)
    res = stats.ttest_ind(y, x, equal_var=False)
    return TestResult(float(res.statistic), float(res.pvalue))


def permutation_test(
    a: ArrayLike,
    b: ArrayLike,
    statistic: Callable[..., Any] | None = None,
    *,
    n_resamples: int = 9999,
    seed: int = 0,
) -> TestResult:
    """Two-sided permutation test; by default of the difference of medians (``b - a``).

    Example:
        >>> permutation_test([1, 2, 3, 4, 5, 6], [11, 12, 13, 14, 15, 16]).p_value < 0.05
        True

    References:
        Good, Permutation, Parametric and Bootstrap Tests of Hypotheses (2005);
        scipy.stats.permutation_test.
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    x, y = _pair(a, b)

    def diff_of_medians(u: np.ndarray, v: np.ndarray, axis: int) -> np.ndarray:
        return np.median(v, axis=axis) - np.median(u, axis=axis)

    res = stats.permutation_test(
        (x, y), statistic or diff_of_medians, vectorized=True, n_resamples=n_resamples,
        alternative="two-sided", rng=np.random.default_rng(seed),
    )
    return TestResult(float(res.statistic), float(res.pvalue))


def ratio_of_medians(a: ArrayLike, b: ArrayLike, *, level: float = 0.95, seed: int = 0,
                     n_resamples: int = 9999) -> Effect:
    """``median(b) / median(a)`` with a BCa bootstrap confidence interval.

    Example:
        >>> e = ratio_of_medians([10.0, 10.1, 9.9, 10.0, 10.2], [20.0, 20.2, 19.8, 20.1, 19.9])
        >>> round(e.estimate, 3), bool(e.ci_low > 1.9)
        (2.0, True)

    References:
        Kalibera and Jones, Rigorous Benchmarking in Reasonable Time (ISMM 2013).
    """
    x, y = _pair(a, b)
    if np.median(x) <= 0:
        raise ValueError(f"The baseline median must be positive for a ratio, got {np.median(x)}.")

    def ratio(u: np.ndarray, v: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(v, axis=axis) / np.median(u, axis=axis)

    lo, hi = bootstrap_ci((x, y), ratio, level=level, seed=seed, n_resamples=n_resamples)
    return Effect(float(ratio(x, y)), lo, hi, level)


def hodges_lehmann(a: ArrayLike, b: ArrayLike) -> float:
    """Hodges-Lehmann shift: the median of all pairwise differences ``b_j - a_i``.

    Example:
        >>> hodges_lehmann([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
        1.0

    References:
        Hodges and Lehmann, Ann. Math. Statist. 34 (1963).
    """
    x, y = _pair(a, b)
    return float(np.median(np.subtract.outer(y, x)))


def cliffs_delta(a: ArrayLike, b: ArrayLike) -> float:
    """Cliff's delta, P(b > a) - P(b < a), from U: ``2U / (n1 n2) - 1``.

    Example:
        >>> cliffs_delta([1, 2, 3], [4, 5, 6])
        1.0

    References:
        Cliff, Psychological Bulletin 114 (1993).
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    x, y = _pair(a, b)
    u = stats.mannwhitneyu(y, x, alternative="two-sided").statistic
    return float(2.0 * u / (x.size * y.size) - 1.0)


def cliffs_label(delta: float) -> Literal["negligible", "small", "medium", "large"]:
    """Romano et al.'s labels: |d| < 0.147 negligible, < 0.33 small, < 0.474 medium.

    Example:
        >>> cliffs_label(-0.2)
        'small'
    """
    d = abs(delta)
    if d < 0.147:
        return "negligible"
    if d < 0.33:
        return "small"
    return "medium" if d < 0.474 else "large"


def cohens_d(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d, ``(mean(b) - mean(a)) / pooled sd``.

    Example:
        >>> round(cohens_d([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 3)
        1.0

    References:
        Cohen, Statistical Power Analysis for the Behavioral Sciences (1988).
    """
    x, y = _pair(a, b, need=2)
    n1, n2 = x.size, y.size
    pooled = np.sqrt(((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return 0.0 if y.mean() == x.mean() else float(np.sign(y.mean() - x.mean()) * np.inf)
    return float((y.mean() - x.mean()) / pooled)


def hedges_g(a: ArrayLike, b: ArrayLike) -> float:
    """Hedges' g: Cohen's d with the small-sample correction ``1 - 3 / (4(n1+n2) - 9)``.

    Example:
        >>> round(hedges_g([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 3)
        0.8

    References:
        Hedges, J. Educational Statistics 6 (1981).
    """
    x, y = _pair(a, b, need=2)
    return cohens_d(x, y) * (1.0 - 3.0 / (4.0 * (x.size + y.size) - 9.0))


def _check_p(p_values: Sequence[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError(f"p-values must be a 1-D sequence of numbers in [0, 1], got {list(p_values)!r}.")
    return p


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), in the input's order.

    Example:
        >>> holm([0.01, 0.04, 0.03]).tolist()
        [0.03, 0.06, 0.06]

    References:
        Holm, Scand. J. Statist. 6 (1979).
    """
    p = _check_p(p_values)
    if p.size == 0:
        return p
    order = np.argsort(p)
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input's order.

    Example:
        >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
        [0.03, 0.04, 0.04]

    The step-up rule in numpy, equal to ``scipy.stats.false_discovery_control(p, method="bh")``
    (tested): a run judged against thresholds alone needs no other part of scipy.stats, whose
    import is most of a second.

    References:
        Benjamini and Hochberg, JRSS B 57 (1995).
    """
    p = _check_p(p_values)
    if p.size == 0:
        return p
    order = np.argsort(p)[::-1]  # largest first, so each adjusted value is a running minimum
    m = p.size
    stepped = np.minimum.accumulate(p[order] * m / np.arange(m, 0, -1))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out
