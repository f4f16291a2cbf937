"""Probabilistic and point forecast scores.

Ensemble scores take ``fn(ensemble, observations)`` with members on the last axis:
``(n, members)`` against ``(n,)`` (``energy_score``: ``(n, members, d)`` against ``(n, d)``).
``ranked_probability_score`` takes category probabilities ``(n, K)`` and observed categories.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, as_int, check_ndim
from calibrax.metrics.registry import Signature, builtin

__all__ = ["crps", "energy_score", "fair_crps", "mase", "ranked_probability_score"]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="forecasting")
_SCORE: dict[str, Any] = {"non_negative": True, "differentiable": True, "proper_scoring_rule": True}


def _ensemble(ensemble: ArrayLike, observations: ArrayLike) -> tuple[Array, Array]:
    e, y = as_float(ensemble, "ensemble"), as_float(observations, "observations")
    if e.shape[:-1] != y.shape:
        raise MetricInputError(
            f"ensemble must be observations' shape plus a members axis; got {tuple(e.shape)} and {tuple(y.shape)}."
        )
    dtype = jnp.result_type(e.dtype, y.dtype)
    return e.astype(dtype), y.astype(dtype)


def _spread(e: Array) -> Array:
    """Sum over member pairs of |x_i - x_j| (per forecast), in O(m log m) by sorting."""
    m = e.shape[-1]
    s = jnp.sort(e, axis=-1)
    coef = 2.0 * jnp.arange(m, dtype=e.dtype) - (m - 1)
    return 2.0 * jnp.sum(s * coef, axis=-1)


@_metric("crps", Direction.LOWER, _PT, invariances={"translation", "permutation"}, **_SCORE)
def crps(ensemble: ArrayLike, observations: ArrayLike) -> Array:
    """Continuous ranked probability score of an ensemble: E|X - y| - 0.5 E|X - X'|.

    Example:
        >>> float(crps(jnp.array([[0.0, 2.0]]), jnp.array([1.0])))
        0.5

    References:
        Gneiting and Raftery (2007), Strictly proper scoring rules, prediction, and estimation.
    """
    e, y = _ensemble(ensemble, observations)
    m = e.shape[-1]
    return jnp.mean(jnp.mean(jnp.abs(e - y[..., None]), axis=-1) - 0.5 * _spread(e) / m**2)


@_metric("fair_crps", Direction.LOWER, _PT, differentiable=True, invariances={"translation", "permutation"})
def fair_crps(ensemble: ArrayLike, observations: ArrayLike) -> Array:
    """Fair (ensemble-size-unbiased) CRPS: E|X - y| - sum|x_i - x_j| / (2 m (m - 1)).

    Example:
        >>> float(fair_crps(jnp.array([[0.0, 2.0]]), jnp.array([1.0])))
        0.0

    References:
        Ferro (2014), Fair scores for ensemble forecasts.
    """
    e, y = _ensemble(ensemble, observations)
    m = e.shape[-1]
    if m < 2:
        raise MetricInputError(f"fair_crps needs at least 2 ensemble members; got {m}.")
    return jnp.mean(jnp.mean(jnp.abs(e - y[..., None]), axis=-1) - _spread(e) / (2.0 * m * (m - 1)))


def _norm(v: Array) -> Array:
    s = jnp.sum(v * v, axis=-1)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


@_metric("energy_score", Direction.LOWER, _PT, invariances={"translation", "permutation"}, **_SCORE)
def energy_score(ensemble: ArrayLike, observations: ArrayLike) -> Array:
    """Energy score of a multivariate ensemble (n, m, d): E|X - y| - 0.5 E|X - X'|.

    Example:
        >>> float(energy_score(jnp.array([[[0.0, 0.0], [0.0, 0.0]]]), jnp.array([[3.0, 4.0]])))
        5.0

    References:
        Gneiting and Raftery (2007), Strictly proper scoring rules, prediction, and estimation.
    """
    e, y = as_float(ensemble, "ensemble"), as_float(observations, "observations")
    check_ndim(e, "ensemble", (3,))
    if (e.shape[0], e.shape[2]) != y.shape:
        raise MetricInputError(f"ensemble (n, m, d) needs observations (n, d); got {tuple(e.shape)} and {tuple(y.shape)}.")
    to_obs = jnp.mean(_norm(e - y[:, None, :]), axis=1)
    pairs = jax.vmap(lambda x: jnp.mean(_norm(x[:, None, :] - x[None, :, :])))(e)
    return jnp.mean(to_obs - 0.5 * pairs)


@_metric("ranked_probability_score", Direction.LOWER, _PT, invariances={"permutation"}, **_SCORE)
def ranked_probability_score(probs: ArrayLike, observations: ArrayLike) -> Array:
    """Ranked probability score over K ordered categories: sum_k (F_k - O_k)^2 / (K - 1), with
    F and O the forecast and observed cumulative distributions; mean over samples.

    Example:
        >>> float(ranked_probability_score(jnp.array([[0.0, 1.0, 0.0]]), jnp.array([2])))
        0.5

    References:
        Epstein (1969), A scoring system for probability forecasts of ranked categories.
    """
    p, y = as_float(probs, "probs"), as_int(observations, "observations")
    check_ndim(p, "probs", (2,))
    if y.shape != p.shape[:1]:
        raise MetricInputError(f"observations must be (n,) for probs (n, K); got {tuple(y.shape)} and {tuple(p.shape)}.")
    k = p.shape[1]
    cdf_f = jnp.cumsum(p, axis=1)
    cdf_o = jnp.cumsum(jax.nn.one_hot(y, k, dtype=p.dtype), axis=1)
    return jnp.mean(jnp.sum((cdf_f - cdf_o) ** 2, axis=1) / (k - 1))


@_metric("mase", Direction.LOWER, _PT, non_negative=True, differentiable=True,
         invariances={"translation", "permutation"})
def mase(predictions: ArrayLike, targets: ArrayLike, *, history: ArrayLike, season: int = 1) -> Array:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive forecast
    y_t = y_{t - season} on ``history``.

    Example:
        >>> float(mase(jnp.array([5.0, 6.0]), jnp.array([4.0, 6.0]), history=jnp.array([1.0, 2.0, 3.0])))
        0.5

    References:
        Hyndman and Koehler (2006), Another look at measures of forecast accuracy.
    """
    p, t, h = as_float(predictions, "predictions"), as_float(targets, "targets"), as_float(history, "history")
    check_ndim(h, "history", (1,))
    if not 1 <= season < h.shape[0]:
        raise MetricInputError(f"season must be in [1, len(history) - 1] = [1, {h.shape[0] - 1}]; got {season}.")
    scale = jnp.mean(jnp.abs(h[season:] - h[:-season]))
    return jnp.mean(jnp.abs(p - t)) / scale
