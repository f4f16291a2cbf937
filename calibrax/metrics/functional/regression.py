"""Regression metrics: ``fn(predictions, targets) -> scalar``, as in scikit-learn.

Inputs are ``(n,)`` or ``(n, outputs)``; a 2-D input is scored per output and the scores are
averaged uniformly (scikit-learn's ``multioutput="uniform_average"``). ``weights`` (one per
sample) and ``mask`` (False drops a sample) are accepted where scikit-learn takes
``sample_weight``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import (
    as_float,
    check_ndim,
    check_same_shape,
    safe_div,
    sample_weights,
    weighted_mean,
)
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "d2_absolute_error_score", "explained_variance", "huber_loss", "log_cosh", "mae", "mape",
    "max_error", "mean_bias_error", "mean_gamma_deviance", "mean_poisson_deviance",
    "mean_tweedie_deviance", "median_absolute_error", "mse", "msle", "quantile_loss", "r2",
    "relative_l2_error", "rmse", "smape",
]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="regression")
_LOSS: dict[str, Any] = {"non_negative": True, "differentiable": True}
_EPS = float(jnp.finfo(jnp.float64).eps)


def _pair(predictions: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    p, t = as_float(predictions, "predictions"), as_float(targets, "targets")
    check_same_shape(p, t)
    check_ndim(t, "targets", (1, 2))
    dtype = jnp.result_type(p.dtype, t.dtype)
    return p.astype(dtype), t.astype(dtype)


def _mean_loss(values: Array, weights: ArrayLike | None, mask: ArrayLike | None) -> Array:
    w = sample_weights(values.shape[0], weights, mask)
    return jnp.mean(weighted_mean(values, w))


@_metric("mse", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def mse(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
        mask: ArrayLike | None = None) -> Array:
    """Mean squared error.

    Example:
        >>> float(mse(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
        2.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss((p - t) ** 2, weights, mask)


@_metric("mae", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def mae(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
        mask: ArrayLike | None = None) -> Array:
    """Mean absolute error.

    Example:
        >>> float(mae(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
        1.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(jnp.abs(p - t), weights, mask)


@_metric("rmse", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def rmse(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
         mask: ArrayLike | None = None) -> Array:
    """Root mean squared error (per output, then averaged, as scikit-learn).

    Example:
        >>> float(rmse(jnp.array([0.0, 0.0]), jnp.array([3.0, 3.0])))
        3.0
    """
    p, t = _pair(predictions, targets)
    w = sample_weights(p.shape[0], weights, mask)
    return jnp.mean(jnp.sqrt(weighted_mean((p - t) ** 2, w)))


def _r2_like(num: Array, den: Array) -> Array:
    # scikit-learn's force_finite: a constant target scores 1 when fitted exactly, else 0.
    score = 1.0 - safe_div(num, den)
    return jnp.mean(jnp.where(den == 0, jnp.where(num == 0, 1.0, 0.0), score))


@_metric("r2", Direction.HIGHER, _PT, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def r2(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
       mask: ArrayLike | None = None) -> Array:
    """Coefficient of determination R^2.

    Example:
        >>> float(r2(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 3.0])))
        1.0
    """
    p, t = _pair(predictions, targets)
    w = sample_weights(p.shape[0], weights, mask)
    wc = w.reshape(w.shape + (1,) * (t.ndim - 1))
    ss_res = jnp.sum(wc * (t - p) ** 2, axis=0)
    ss_tot = jnp.sum(wc * (t - weighted_mean(t, w)) ** 2, axis=0)
    return _r2_like(ss_res, ss_tot)


@_metric("explained_variance", Direction.HIGHER, _PT, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def explained_variance(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
                       mask: ArrayLike | None = None) -> Array:
    """Explained variance score: 1 - Var(targets - predictions) / Var(targets).

    Example:
        >>> float(explained_variance(jnp.array([2.0, 3.0, 4.0]), jnp.array([1.0, 2.0, 3.0])))
        1.0
    """
    p, t = _pair(predictions, targets)
    w = sample_weights(p.shape[0], weights, mask)
    err = t - p
    var_err = weighted_mean((err - weighted_mean(err, w)) ** 2, w)
    var_t = weighted_mean((t - weighted_mean(t, w)) ** 2, w)
    return _r2_like(var_err, var_t)


@_metric("mape", Direction.LOWER, _PT, invariances={"scale", "permutation"}, **_LOSS)
def mape(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
         mask: ArrayLike | None = None) -> Array:
    """Mean absolute percentage error, as a fraction (scikit-learn's definition).

    Example:
        >>> float(mape(jnp.array([1.5, 2.0]), jnp.array([1.0, 2.0])))
        0.25
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(jnp.abs(p - t) / jnp.maximum(jnp.abs(t), _EPS), weights, mask)


@_metric("smape", Direction.LOWER, _PT, symmetric=True, invariances={"scale", "permutation"}, **_LOSS)
def smape(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
          mask: ArrayLike | None = None) -> Array:
    """Symmetric mean absolute percentage error, 2|p - t| / (|p| + |t|), in [0, 2].

    A pair with both values zero scores 0.

    Example:
        >>> float(smape(jnp.array([3.0, 0.0]), jnp.array([1.0, 0.0])))
        0.5

    References:
        Makridakis (1993), Accuracy measures: theoretical and practical concerns.
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(safe_div(2.0 * jnp.abs(p - t), jnp.abs(p) + jnp.abs(t)), weights, mask)


@_metric("msle", Direction.LOWER, _PT, symmetric=True, invariances={"permutation"}, **_LOSS)
def msle(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
         mask: ArrayLike | None = None) -> Array:
    """Mean squared logarithmic error; inputs must be greater than -1.

    Example:
        >>> round(float(msle(jnp.array([jnp.e - 1.0]), jnp.array([0.0]))), 6)
        1.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss((jnp.log1p(p) - jnp.log1p(t)) ** 2, weights, mask)


@_metric("max_error", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def max_error(predictions: ArrayLike, targets: ArrayLike, *, mask: ArrayLike | None = None) -> Array:
    """Largest absolute error.

    Example:
        >>> float(max_error(jnp.array([1.0, 5.0]), jnp.array([1.0, 2.0])))
        3.0
    """
    p, t = _pair(predictions, targets)
    err = jnp.abs(p - t)
    if mask is not None:
        w = sample_weights(p.shape[0], None, mask)
        err = jnp.where(w.reshape(w.shape + (1,) * (err.ndim - 1)) > 0, err, 0.0)
    return jnp.mean(jnp.max(err, axis=0))


@_metric("median_absolute_error", Direction.LOWER, _PT, symmetric=True,
         invariances={"translation", "permutation"}, **_LOSS)
def median_absolute_error(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Median absolute error.

    Example:
        >>> float(median_absolute_error(jnp.array([1.0, 2.0, 9.0]), jnp.array([1.0, 3.0, 3.0])))
        1.0
    """
    p, t = _pair(predictions, targets)
    return jnp.mean(jnp.median(jnp.abs(p - t), axis=0))


@_metric("huber_loss", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def huber_loss(predictions: ArrayLike, targets: ArrayLike, *, delta: float = 1.0,
               weights: ArrayLike | None = None, mask: ArrayLike | None = None) -> Array:
    """Huber loss: quadratic below ``delta``, linear above.

    Example:
        >>> float(huber_loss(jnp.array([0.5, 3.0]), jnp.array([0.0, 0.0])))
        1.3125

    References:
        Huber (1964), Robust estimation of a location parameter.
    """
    p, t = _pair(predictions, targets)
    r = jnp.abs(p - t)
    values = jnp.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    return _mean_loss(values, weights, mask)


@_metric("quantile_loss", Direction.LOWER, _PT, invariances={"translation", "permutation"},
         proper_scoring_rule=True, **_LOSS)
def quantile_loss(predictions: ArrayLike, targets: ArrayLike, *, alpha: float = 0.5,
                  weights: ArrayLike | None = None, mask: ArrayLike | None = None) -> Array:
    """Pinball (quantile) loss at level ``alpha`` (scikit-learn's mean_pinball_loss).

    Example:
        >>> float(quantile_loss(jnp.array([0.0]), jnp.array([2.0]), alpha=0.75))
        1.5
    """
    p, t = _pair(predictions, targets)
    diff = t - p
    values = jnp.maximum(alpha * diff, (alpha - 1.0) * diff)
    return _mean_loss(values, weights, mask)


@_metric("log_cosh", Direction.LOWER, _PT, symmetric=True, invariances={"translation", "permutation"}, **_LOSS)
def log_cosh(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
             mask: ArrayLike | None = None) -> Array:
    """Mean of log(cosh(predictions - targets)), computed without overflow.

    Example:
        >>> round(float(log_cosh(jnp.array([1.0]), jnp.array([0.0]))), 6)
        0.433781
    """
    p, t = _pair(predictions, targets)
    a = jnp.abs(p - t)
    return _mean_loss(a + jnp.log1p(jnp.exp(-2.0 * a)) - jnp.log(2.0), weights, mask)


@_metric("relative_l2_error", Direction.LOWER, _PT, invariances={"scale", "permutation"}, **_LOSS)
def relative_l2_error(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """||predictions - targets||_2 / ||targets||_2 over all elements.

    Example:
        >>> float(relative_l2_error(jnp.array([3.0, 0.0]), jnp.array([0.0, 4.0])))
        1.25
    """
    p, t = _pair(predictions, targets)
    return jnp.linalg.norm((p - t).ravel()) / jnp.linalg.norm(t.ravel())


def _tweedie(p: Array, t: Array, power: float) -> Array:
    if power == 0:
        return (t - p) ** 2
    if power == 1:
        return 2.0 * (jnp.where(t > 0, t * jnp.log(jnp.where(t > 0, t, 1.0) / p), 0.0) - t + p)
    if power == 2:
        return 2.0 * (jnp.log(p / t) + t / p - 1.0)
    t_pos = jnp.maximum(t, 0.0)
    term = t_pos ** (2 - power) / ((1 - power) * (2 - power))
    return 2.0 * (term - t * p ** (1 - power) / (1 - power) + p ** (2 - power) / (2 - power))


@_metric("mean_poisson_deviance", Direction.LOWER, _PT, invariances={"permutation"}, **_LOSS)
def mean_poisson_deviance(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
                          mask: ArrayLike | None = None) -> Array:
    """Mean Poisson deviance; predictions > 0, targets >= 0.

    Example:
        >>> float(mean_poisson_deviance(jnp.array([1.0, 2.0]), jnp.array([1.0, 2.0])))
        0.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(_tweedie(p, t, 1), weights, mask)


@_metric("mean_gamma_deviance", Direction.LOWER, _PT, invariances={"scale", "permutation"}, **_LOSS)
def mean_gamma_deviance(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
                        mask: ArrayLike | None = None) -> Array:
    """Mean Gamma deviance; predictions and targets > 0.

    Example:
        >>> float(mean_gamma_deviance(jnp.array([2.0]), jnp.array([2.0])))
        0.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(_tweedie(p, t, 2), weights, mask)


@_metric("mean_tweedie_deviance", Direction.LOWER, _PT, invariances={"permutation"}, **_LOSS)
def mean_tweedie_deviance(predictions: ArrayLike, targets: ArrayLike, *, power: float = 0.0,
                          weights: ArrayLike | None = None, mask: ArrayLike | None = None) -> Array:
    """Mean Tweedie deviance with ``power`` 0 (normal), 1 (Poisson), 2 (Gamma) or any p >= 1.

    Example:
        >>> float(mean_tweedie_deviance(jnp.array([1.0]), jnp.array([3.0]), power=0))
        4.0
    """
    if 0 < power < 1:
        raise MetricInputError(f"power must be <= 0 or >= 1 (no Tweedie distribution between); got {power}.")
    p, t = _pair(predictions, targets)
    return _mean_loss(_tweedie(p, t, power), weights, mask)


@_metric("d2_absolute_error_score", Direction.HIGHER, _PT, invariances={"translation", "scale", "permutation"})
def d2_absolute_error_score(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """D^2 with absolute error: 1 - sum|t - p| / sum|t - median(t)|.

    Example:
        >>> float(d2_absolute_error_score(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 3.0])))
        1.0
    """
    p, t = _pair(predictions, targets)
    num = jnp.sum(jnp.abs(t - p), axis=0)
    den = jnp.sum(jnp.abs(t - jnp.median(t, axis=0)), axis=0)
    return _r2_like(num, den)


@_metric("mean_bias_error", Direction.INFO, _PT, differentiable=True, invariances={"translation", "permutation"})
def mean_bias_error(predictions: ArrayLike, targets: ArrayLike, *, weights: ArrayLike | None = None,
                    mask: ArrayLike | None = None) -> Array:
    """Mean signed error, mean(predictions - targets): positive when over-predicting.

    Example:
        >>> float(mean_bias_error(jnp.array([2.0, 4.0]), jnp.array([1.0, 1.0])))
        2.0
    """
    p, t = _pair(predictions, targets)
    return _mean_loss(p - t, weights, mask)
