"""Calibration metrics: ``fn(probs, targets)`` with probabilities (n,) of class 1 or (n, K).

Binned metrics use ``n_bins`` equal-width bins on (0, 1] (a confidence c falls in bin
ceil(c * n_bins) - 1), except ``ace``, whose bins hold equal numbers of samples.
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
from calibrax.metrics.functional._common import as_float, as_int, safe_div
from calibrax.metrics.registry import Signature, builtin

__all__ = ["ace", "brier_score", "classwise_ece", "ece", "mce"]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="calibration")
_BINNED: dict[str, Any] = {"non_negative": True, "invariances": {"permutation"}}


def _probs(probs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    p, t = as_float(probs, "probs"), as_int(targets, "targets")
    if t.ndim != 1 or p.ndim not in (1, 2) or p.shape[0] != t.shape[0]:
        raise MetricInputError(
            f"probs must have shape (n,) (probability of class 1) or (n, K), and targets shape "
            f"(n,); got {tuple(p.shape)} and {tuple(t.shape)}."
        )
    if p.ndim == 1:
        p = jnp.stack([1.0 - p, p], axis=1)
    return p, t


def _check_bins(n_bins: int) -> None:
    if int(n_bins) < 1:
        raise MetricInputError(f"n_bins must be a positive integer; got {n_bins!r}.")


def _bin_gaps(conf: Array, hit: Array, bins: Array, n_bins: int) -> tuple[Array, Array]:
    """Per-bin sample counts and |accuracy - confidence| gaps."""
    oh = jax.nn.one_hot(bins, n_bins, dtype=conf.dtype)
    count = oh.sum(axis=0)
    gap = jnp.abs(safe_div(oh.T @ hit, count) - safe_div(oh.T @ conf, count))
    return count, gap


def _width_bins(conf: Array, n_bins: int) -> Array:
    return jnp.clip(jnp.ceil(conf * n_bins).astype(jnp.int32) - 1, 0, n_bins - 1)


def _top_label(probs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    p, t = _probs(probs, targets)
    return jnp.max(p, axis=1), (jnp.argmax(p, axis=1) == t).astype(p.dtype)


@_metric("brier_score", Direction.LOWER, _PT, proper_scoring_rule=True, differentiable=True, **_BINNED)
def brier_score(probs: ArrayLike, targets: ArrayLike) -> Array:
    """Brier score: mean (p - y)^2 for (n,) binary probabilities, sum over classes for (n, K).

    Example:
        >>> float(brier_score(jnp.array([0.5, 1.0]), jnp.array([1, 1])))
        0.125

    References:
        Brier (1950), Verification of forecasts expressed in terms of probability.
    """
    p = as_float(probs, "probs")
    t = as_int(targets, "targets")
    if p.ndim == 1:
        _probs(p, t)
        return jnp.mean((p - t) ** 2)
    p, t = _probs(p, t)
    return jnp.mean(jnp.sum((p - jax.nn.one_hot(t, p.shape[1], dtype=p.dtype)) ** 2, axis=1))


@_metric("ece", Direction.LOWER, _PT, **_BINNED)
def ece(probs: ArrayLike, targets: ArrayLike, *, n_bins: int = 15) -> Array:
    """Expected calibration error of the top label, over equal-width confidence bins.

    Example:
        >>> round(float(ece(jnp.array([[0.9, 0.1], [0.2, 0.8]]), jnp.array([0, 0]), n_bins=2)), 4)
        0.35

    References:
        Guo et al. (2017), On calibration of modern neural networks.
    """
    _check_bins(n_bins)
    conf, hit = _top_label(probs, targets)
    count, gap = _bin_gaps(conf, hit, _width_bins(conf, n_bins), n_bins)
    return jnp.sum(count * gap) / conf.shape[0]


@_metric("mce", Direction.LOWER, _PT, **_BINNED)
def mce(probs: ArrayLike, targets: ArrayLike, *, n_bins: int = 15) -> Array:
    """Maximum calibration error: the largest top-label gap over non-empty bins.

    Example:
        >>> round(float(mce(jnp.array([[0.9, 0.1], [0.2, 0.8]]), jnp.array([0, 0]), n_bins=2)), 4)
        0.35

    References:
        Naeini et al. (2015), Obtaining well calibrated probabilities using Bayesian binning.
    """
    _check_bins(n_bins)
    conf, hit = _top_label(probs, targets)
    count, gap = _bin_gaps(conf, hit, _width_bins(conf, n_bins), n_bins)
    return jnp.max(jnp.where(count > 0, gap, 0.0))


@_metric("ace", Direction.LOWER, _PT, **_BINNED)
def ace(probs: ArrayLike, targets: ArrayLike, *, n_bins: int = 15) -> Array:
    """Adaptive calibration error: top-label gaps over ``n_bins`` equal-count bins, averaged.

    Sample i of n (by rank of confidence, ties by position) goes to bin floor(i * n_bins / n).

    Example:
        >>> round(float(ace(jnp.array([[0.9, 0.1], [0.2, 0.8]]), jnp.array([0, 0]), n_bins=2)), 4)
        0.45

    References:
        Nixon et al. (2019), Measuring calibration in deep learning.
    """
    _check_bins(n_bins)
    conf, hit = _top_label(probs, targets)
    n = conf.shape[0]
    rank = jnp.argsort(jnp.argsort(conf, stable=True), stable=True)
    count, gap = _bin_gaps(conf, hit, (rank * n_bins) // n, n_bins)
    return jnp.sum(gap) / jnp.sum(count > 0)


@_metric("classwise_ece", Direction.LOWER, _PT, **_BINNED)
def classwise_ece(probs: ArrayLike, targets: ArrayLike, *, n_bins: int = 15) -> Array:
    """Class-wise ECE: each class's probability against its indicator, averaged over classes.

    Example:
        >>> round(float(classwise_ece(jnp.array([[0.9, 0.1], [0.2, 0.8]]), jnp.array([0, 0]), n_bins=2)), 4)
        0.45

    References:
        Kull et al. (2019), Beyond temperature scaling: obtaining well-calibrated multiclass
        probabilities with Dirichlet calibration.
    """
    _check_bins(n_bins)
    p, t = _probs(probs, targets)
    onehot = jax.nn.one_hot(t, p.shape[1], dtype=p.dtype)

    def one_class(conf: Array, hit: Array) -> Array:
        count, gap = _bin_gaps(conf, hit, _width_bins(conf, n_bins), n_bins)
        return jnp.sum(count * gap) / conf.shape[0]

    return jnp.mean(jax.vmap(one_class, in_axes=(1, 1))(p, onehot))
