"""Statistical association and shape measures.

Correlations take ``fn(x, y)`` (1-D, same length); ``r2_adjusted`` takes
``(predictions, targets)``; ``skewness``, ``kurtosis`` and ``variation`` take one sample. The
moment-based ones use the biased estimators, as SciPy does by default.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_ndim, check_same_shape, safe_div
from calibrax.metrics.functional.classification import _average_ranks
from calibrax.metrics.functional.regression import r2
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "concordance_correlation", "kendall_tau", "kurtosis", "pearson", "r2_adjusted", "skewness", "spearman",
    "variation",
]

_metric = partial(builtin, domain="statistical")
_CORR: dict[str, Any] = {"symmetric": True, "invariances": {"translation", "scale", "permutation"}}


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(x, "x"), as_float(y, "y")
    check_same_shape(a, b, ("x", "y"))
    check_ndim(a, "x", (1,))
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _pearson(a: Array, b: Array) -> Array:
    da, db = a - a.mean(), b - b.mean()
    return jnp.clip(jnp.sum(da * db) / jnp.sqrt(jnp.sum(da * da) * jnp.sum(db * db)), -1.0, 1.0)


@_metric("pearson", Direction.HIGHER, Signature.PAIR, differentiable=True, **_CORR)
def pearson(x: ArrayLike, y: ArrayLike) -> Array:
    """Pearson correlation coefficient.

    Example:
        >>> float(pearson(jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 4.0, 6.0])))
        1.0
    """
    return _pearson(*_xy(x, y))


@_metric("spearman", Direction.HIGHER, Signature.PAIR, **_CORR)
def spearman(x: ArrayLike, y: ArrayLike) -> Array:
    """Spearman rank correlation (Pearson on ranks, ties sharing their mean rank).

    Example:
        >>> float(spearman(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 8.0, 27.0])))
        1.0

    References:
        Spearman (1904), The proof and measurement of association between two things.
    """
    a, b = _xy(x, y)
    return _pearson(_average_ranks(a).astype(a.dtype), _average_ranks(b).astype(b.dtype))


@_metric("kendall_tau", Direction.HIGHER, Signature.PAIR, **_CORR)
def kendall_tau(x: ArrayLike, y: ArrayLike) -> Array:
    """Kendall's tau-b (adjusted for ties), over all pairs (O(n^2) memory).

    Example:
        >>> round(float(kendall_tau(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 3.0, 2.0, 4.0]))), 6)
        0.666667

    References:
        Kendall (1945), The treatment of ties in ranking problems.
    """
    a, b = _xy(x, y)
    sa = jnp.sign(a[:, None] - a[None, :])
    sb = jnp.sign(b[:, None] - b[None, :])
    num = jnp.sum(sa * sb)
    return num / jnp.sqrt(jnp.sum(sa != 0).astype(a.dtype) * jnp.sum(sb != 0).astype(a.dtype))


@_metric("concordance_correlation", Direction.HIGHER, Signature.PAIR, symmetric=True, differentiable=True,
         invariances={"translation", "permutation"})
def concordance_correlation(x: ArrayLike, y: ArrayLike) -> Array:
    """Lin's concordance correlation coefficient 2 cov / (var_x + var_y + (mean_x - mean_y)^2).

    Example:
        >>> float(concordance_correlation(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 3.0])))
        1.0

    References:
        Lin (1989), A concordance correlation coefficient to evaluate reproducibility.
    """
    a, b = _xy(x, y)
    cov = jnp.mean((a - a.mean()) * (b - b.mean()))
    return 2.0 * cov / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)


@_metric("r2_adjusted", Direction.HIGHER, Signature.PREDICTIONS_TARGETS, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def r2_adjusted(predictions: ArrayLike, targets: ArrayLike, *, n_features: int = 1) -> Array:
    """Adjusted R^2 = 1 - (1 - R^2) (n - 1) / (n - p - 1) for p = ``n_features``.

    Example:
        >>> float(r2_adjusted(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 2.0, 3.0, 4.0]), n_features=1))
        1.0

    References:
        Theil (1961), Economic forecasts and policy.
    """
    n = jnp.shape(targets)[0]
    if not 0 <= n_features < n - 1:
        raise MetricInputError(f"n_features must be in [0, n - 2] = [0, {n - 2}]; got {n_features}.")
    return 1.0 - (1.0 - r2(predictions, targets)) * (n - 1) / (n - n_features - 1)


def _sample(x: ArrayLike) -> Array:
    a = as_float(x, "x")
    check_ndim(a, "x", (1,))
    return a


@_metric("skewness", Direction.INFO, Signature.SINGLE, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def skewness(x: ArrayLike) -> Array:
    """Sample skewness m3 / m2^1.5 (biased, SciPy's default).

    Example:
        >>> float(skewness(jnp.array([1.0, 2.0, 3.0])))
        0.0
    """
    a = _sample(x)
    d = a - a.mean()
    return safe_div(jnp.mean(d**3), jnp.mean(d**2) ** 1.5)


@_metric("kurtosis", Direction.INFO, Signature.SINGLE, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def kurtosis(x: ArrayLike) -> Array:
    """Excess kurtosis m4 / m2^2 - 3 (Fisher, biased, SciPy's default).

    Example:
        >>> float(kurtosis(jnp.array([-1.0, 1.0])))
        -2.0
    """
    a = _sample(x)
    d = a - a.mean()
    return safe_div(jnp.mean(d**4), jnp.mean(d**2) ** 2) - 3.0


@_metric("variation", Direction.LOWER, Signature.SINGLE, non_negative=True, differentiable=True,
         invariances={"scale", "permutation"})
def variation(x: ArrayLike) -> Array:
    """Coefficient of variation std / |mean| (population std, as SciPy).

    Example:
        >>> float(variation(jnp.array([1.0, 3.0])))
        0.5
    """
    a = _sample(x)
    return a.std() / jnp.abs(a.mean())
