"""Prediction intervals ``fn(lower, upper, targets)`` and Gaussian predictive densities
``fn(mean, variance, targets)``.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape
from calibrax.metrics.registry import Signature, builtin

__all__ = ["gaussian_nll", "interval_score", "mpiw", "picp"]

_metric = partial(builtin, domain="uncertainty")


def _three(a: ArrayLike, b: ArrayLike, c: ArrayLike, names: tuple[str, str, str]) -> tuple[Array, Array, Array]:
    x, y, z = as_float(a, names[0]), as_float(b, names[1]), as_float(c, names[2])
    check_same_shape(x, y, names[:2])
    check_same_shape(x, z, (names[0], names[2]))
    dtype = jnp.result_type(x.dtype, y.dtype, z.dtype)
    return x.astype(dtype), y.astype(dtype), z.astype(dtype)


_IV = ("lower", "upper", "targets")


@_metric("picp", Direction.HIGHER, Signature.INTERVAL, non_negative=True,
         invariances={"translation", "scale", "permutation"})
def picp(lower: ArrayLike, upper: ArrayLike, targets: ArrayLike) -> Array:
    """Prediction interval coverage probability: the fraction of targets inside [lower, upper].

    Example:
        >>> float(picp(jnp.array([0.0, 0.0]), jnp.array([1.0, 1.0]), jnp.array([0.5, 2.0])))
        0.5
    """
    lo, hi, y = _three(lower, upper, targets, _IV)
    return jnp.mean(((y >= lo) & (y <= hi)).astype(y.dtype))


@_metric("mpiw", Direction.LOWER, Signature.INTERVAL, differentiable=True, invariances={"translation", "permutation"})
def mpiw(lower: ArrayLike, upper: ArrayLike, targets: ArrayLike | None = None) -> Array:
    """Mean prediction interval width, mean(upper - lower) (targets are not used).

    Example:
        >>> float(mpiw(jnp.array([0.0, 1.0]), jnp.array([1.0, 4.0])))
        2.0

    References:
        Khosravi et al. (2011), Lower upper bound estimation method for construction of neural
        network-based prediction intervals.
    """
    lo, hi = as_float(lower, "lower"), as_float(upper, "upper")
    check_same_shape(lo, hi, ("lower", "upper"))
    return jnp.mean(hi - lo)


@_metric("interval_score", Direction.LOWER, Signature.INTERVAL, non_negative=True, differentiable=True,
         proper_scoring_rule=True, invariances={"translation", "permutation"})
def interval_score(lower: ArrayLike, upper: ArrayLike, targets: ArrayLike, *, alpha: float = 0.1) -> Array:
    """Interval score of central (1 - alpha) intervals: width plus 2/alpha times the miss.

    Example:
        >>> float(interval_score(jnp.array([0.0]), jnp.array([1.0]), jnp.array([2.0]), alpha=0.5))
        5.0

    References:
        Gneiting and Raftery (2007), Strictly proper scoring rules, prediction, and estimation.
    """
    if not 0 < alpha < 1:
        raise MetricInputError(f"alpha must be in (0, 1); got {alpha}.")
    lo, hi, y = _three(lower, upper, targets, _IV)
    below, above = jnp.maximum(lo - y, 0.0), jnp.maximum(y - hi, 0.0)
    return jnp.mean((hi - lo) + 2.0 / alpha * (below + above))


@_metric("gaussian_nll", Direction.LOWER, Signature.GAUSSIAN, differentiable=True, proper_scoring_rule=True,
         invariances={"translation", "permutation"})
def gaussian_nll(mean: ArrayLike, variance: ArrayLike, targets: ArrayLike, *, full: bool = False,
                 eps: float = 1e-6) -> Array:
    """Gaussian negative log-likelihood 0.5 (log var + (y - mean)^2 / var), plus 0.5 log(2 pi)
    with ``full=True``; variances are clamped at ``eps``.

    Example:
        >>> float(gaussian_nll(jnp.array([0.0]), jnp.array([1.0]), jnp.array([2.0])))
        2.0
    """
    mu, var, y = _three(mean, variance, targets, ("mean", "variance", "targets"))
    var = jnp.maximum(var, eps)
    nll = 0.5 * (jnp.log(var) + (y - mu) ** 2 / var)
    return jnp.mean(nll + (0.5 * jnp.log(2.0 * jnp.pi) if full else 0.0))
