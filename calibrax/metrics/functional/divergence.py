"""Divergences between distributions.

``fn(p, q)`` takes probability vectors on the last axis (rows of a 2-D input are scored
separately and averaged); results are in nats. The sample-based ones (``wasserstein_1d``,
``energy_distance``, ``ks_statistic``, ``mmd``, ``sinkhorn``, ``sliced_wasserstein``) take two
sets of samples ``fn(x, y)``, one sample per row (or one value per entry for the 1-D ones).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import logsumexp, xlogy
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_ndim, check_same_shape, pairwise_sq_dists
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "bhattacharyya", "chi_squared", "energy_distance", "hellinger", "jeffreys", "js_divergence",
    "kl_divergence", "ks_statistic", "mmd", "renyi_divergence", "sinkhorn", "sliced_wasserstein",
    "total_variation", "wasserstein_1d",
]

_PQ = Signature.DISTRIBUTIONS
_XY = Signature.SAMPLES
_metric = partial(builtin, domain="divergence")
_DIV: dict[str, Any] = {"non_negative": True, "differentiable": True, "invariances": {"permutation"}}


def _dists(p: ArrayLike, q: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(p, "p"), as_float(q, "q")
    check_same_shape(a, b, ("p", "q"))
    check_ndim(a, "p", (1, 2))
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _kl(p: Array, q: Array) -> Array:
    return jnp.sum(xlogy(p, p) - xlogy(p, q), axis=-1)


@_metric("kl_divergence", Direction.LOWER, _PQ, **_DIV)
def kl_divergence(p: ArrayLike, q: ArrayLike) -> Array:
    """Kullback-Leibler divergence KL(p || q) = sum p log(p / q).

    Example:
        >>> round(float(kl_divergence(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75]))), 6)
        0.143841

    References:
        Kullback and Leibler (1951), On information and sufficiency.
    """
    a, b = _dists(p, q)
    return jnp.mean(_kl(a, b))


@_metric("jeffreys", Direction.LOWER, _PQ, symmetric=True, **_DIV)
def jeffreys(p: ArrayLike, q: ArrayLike) -> Array:
    """Jeffreys divergence KL(p || q) + KL(q || p).

    Example:
        >>> round(float(jeffreys(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75]))), 6)
        0.274653
    """
    a, b = _dists(p, q)
    return jnp.mean(_kl(a, b) + _kl(b, a))


@_metric("js_divergence", Direction.LOWER, _PQ, symmetric=True, **_DIV)
def js_divergence(p: ArrayLike, q: ArrayLike) -> Array:
    """Jensen-Shannon divergence in nats (the square of SciPy's ``jensenshannon`` distance).

    Example:
        >>> round(float(js_divergence(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))), 6)
        0.693147

    References:
        Lin (1991), Divergence measures based on the Shannon entropy.
    """
    a, b = _dists(p, q)
    m = 0.5 * (a + b)
    return jnp.mean(0.5 * _kl(a, m) + 0.5 * _kl(b, m))


@_metric("total_variation", Direction.LOWER, _PQ, true_metric=True, symmetric=True, **_DIV)
def total_variation(p: ArrayLike, q: ArrayLike) -> Array:
    """Total variation distance 0.5 sum |p - q|.

    Example:
        >>> float(total_variation(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75])))
        0.25
    """
    a, b = _dists(p, q)
    return jnp.mean(0.5 * jnp.sum(jnp.abs(a - b), axis=-1))


@_metric("hellinger", Direction.LOWER, _PQ, true_metric=True, symmetric=True, **_DIV)
def hellinger(p: ArrayLike, q: ArrayLike) -> Array:
    """Hellinger distance sqrt(0.5 sum (sqrt p - sqrt q)^2), in [0, 1].

    Example:
        >>> float(hellinger(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])))
        1.0

    References:
        Hellinger (1909), Neue Begruendung der Theorie quadratischer Formen.
    """
    a, b = _dists(p, q)
    s = 0.5 * jnp.sum((jnp.sqrt(a) - jnp.sqrt(b)) ** 2, axis=-1)
    return jnp.mean(jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0))


@_metric("bhattacharyya", Direction.LOWER, _PQ, symmetric=True, **_DIV)
def bhattacharyya(p: ArrayLike, q: ArrayLike) -> Array:
    """Bhattacharyya distance -log sum sqrt(p q).

    Example:
        >>> float(bhattacharyya(jnp.array([0.5, 0.5]), jnp.array([0.5, 0.5])))
        -0.0

    References:
        Bhattacharyya (1943), On a measure of divergence between two statistical populations.
    """
    a, b = _dists(p, q)
    return jnp.mean(-jnp.log(jnp.minimum(jnp.sum(jnp.sqrt(a * b), axis=-1), 1.0)))


@_metric("chi_squared", Direction.LOWER, _PQ, **_DIV)
def chi_squared(p: ArrayLike, q: ArrayLike) -> Array:
    """Pearson chi-squared divergence sum (p - q)^2 / q.

    Example:
        >>> round(float(chi_squared(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75]))), 4)
        0.3333

    References:
        Pearson (1900), On the criterion that a given system of deviations ... .
    """
    a, b = _dists(p, q)
    return jnp.mean(jnp.sum((a - b) ** 2 / b, axis=-1))


@_metric("renyi_divergence", Direction.LOWER, _PQ, **_DIV)
def renyi_divergence(p: ArrayLike, q: ArrayLike, *, alpha: float = 0.5) -> Array:
    """Renyi divergence of order ``alpha``: log(sum p^a q^(1 - a)) / (a - 1); KL at a = 1.

    Example:
        >>> round(float(renyi_divergence(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75]), alpha=2.0)), 6)
        0.287682

    References:
        Renyi (1961), On measures of entropy and information.
    """
    if alpha < 0:
        raise MetricInputError(f"alpha must be >= 0; got {alpha}.")
    a, b = _dists(p, q)
    if alpha == 1:
        return jnp.mean(_kl(a, b))
    s = jnp.sum(jnp.where(a > 0, a**alpha * b ** (1.0 - alpha), 0.0), axis=-1)
    return jnp.mean(jnp.log(s) / (alpha - 1.0))


def _values(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(x, "x"), as_float(y, "y")
    check_ndim(a, "x", (1,))
    check_ndim(b, "y", (1,))
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _cdf_gaps(a: Array, b: Array) -> tuple[Array, Array]:
    """Gaps between the sorted pooled values and |F_a - F_b| on each gap."""
    pooled = jnp.sort(jnp.concatenate([a, b]))
    widths = jnp.diff(pooled)
    fa = jnp.searchsorted(jnp.sort(a), pooled[:-1], side="right").astype(a.dtype) / a.size
    fb = jnp.searchsorted(jnp.sort(b), pooled[:-1], side="right").astype(a.dtype) / b.size
    return widths, jnp.abs(fa - fb)


@_metric("wasserstein_1d", Direction.LOWER, _XY, true_metric=True, symmetric=True, non_negative=True,
         differentiable=True, invariances={"translation", "permutation"})
def wasserstein_1d(x: ArrayLike, y: ArrayLike) -> Array:
    """First Wasserstein distance between two 1-D samples (integral of |F_x - F_y|).

    Example:
        >>> float(wasserstein_1d(jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0])))
        1.0

    References:
        Villani (2009), Optimal transport: old and new.
    """
    widths, gap = _cdf_gaps(*_values(x, y))
    return jnp.sum(widths * gap)


@_metric("energy_distance", Direction.LOWER, _XY, true_metric=True, symmetric=True, non_negative=True,
         differentiable=True, invariances={"translation", "permutation"})
def energy_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """Energy distance between two 1-D samples, sqrt(2 integral (F_x - F_y)^2) (SciPy's).

    Example:
        >>> round(float(energy_distance(jnp.array([0.0]), jnp.array([1.0]))), 6)
        1.414214

    References:
        Szekely and Rizzo (2013), Energy statistics: a class of statistics based on distances.
    """
    widths, gap = _cdf_gaps(*_values(x, y))
    s = 2.0 * jnp.sum(widths * gap**2)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


@_metric("ks_statistic", Direction.LOWER, _XY, true_metric=True, symmetric=True, non_negative=True,
         invariances={"translation", "scale", "permutation"})
def ks_statistic(x: ArrayLike, y: ArrayLike) -> Array:
    """Two-sample Kolmogorov-Smirnov statistic, max |F_x - F_y|.

    Example:
        >>> float(ks_statistic(jnp.array([0.0, 1.0]), jnp.array([0.5, 2.0])))
        0.5

    References:
        Smirnov (1948), Table for estimating the goodness of fit of empirical distributions.
    """
    _, gap = _cdf_gaps(*_values(x, y))
    return jnp.max(gap)


def _sets(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(x, "x"), as_float(y, "y")
    check_ndim(a, "x", (2,))
    check_ndim(b, "y", (2,))
    if a.shape[1] != b.shape[1]:
        raise MetricInputError(f"x and y must have the same number of features; got {a.shape} and {b.shape}.")
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


@_metric("mmd", Direction.LOWER, _XY, symmetric=True, non_negative=True, differentiable=True,
         invariances={"translation", "rotation", "permutation"})
def mmd(x: ArrayLike, y: ArrayLike, *, bandwidth: float = 1.0) -> Array:
    """Squared maximum mean discrepancy (biased V-statistic) with a Gaussian kernel.

    k(a, b) = exp(-|a - b|^2 / (2 bandwidth^2)); x is (n, d), y is (m, d).

    Example:
        >>> float(mmd(jnp.zeros((3, 2)), jnp.zeros((4, 2))))
        0.0

    References:
        Gretton et al. (2012), A kernel two-sample test.
    """
    a, b = _sets(x, y)
    k = lambda u, v: jnp.exp(-pairwise_sq_dists(u, v) / (2.0 * bandwidth**2))  # noqa: E731
    return jnp.maximum(k(a, a).mean() + k(b, b).mean() - 2.0 * k(a, b).mean(), 0.0)


@_metric("sinkhorn", Direction.LOWER, _XY, symmetric=True, non_negative=True, differentiable=True,
         invariances={"translation", "rotation", "permutation"})
def sinkhorn(x: ArrayLike, y: ArrayLike, *, epsilon: float = 0.1, iterations: int = 200) -> Array:
    """Entropic optimal transport cost <P, C> between uniform point clouds, C = |x - y|^2.

    P solves the entropy-regularised problem, found by log-domain Sinkhorn iterations.

    Example:
        >>> float(sinkhorn(jnp.zeros((2, 1)), jnp.ones((2, 1))))
        1.0

    References:
        Cuturi (2013), Sinkhorn distances: lightspeed computation of optimal transport.
    """
    if epsilon <= 0:
        raise MetricInputError(f"epsilon must be positive; got {epsilon}.")
    a, b = _sets(x, y)
    cost = pairwise_sq_dists(a, b)
    log_a = jnp.full(a.shape[0], -jnp.log(a.shape[0]), a.dtype)
    log_b = jnp.full(b.shape[0], -jnp.log(b.shape[0]), a.dtype)

    def step(_: int, fg: tuple[Array, Array]) -> tuple[Array, Array]:
        f, g = fg
        f = -epsilon * logsumexp((g[None, :] - cost) / epsilon + log_b[None, :], axis=1)
        g = -epsilon * logsumexp((f[:, None] - cost) / epsilon + log_a[:, None], axis=0)
        return f, g

    f, g = jax.lax.fori_loop(0, iterations, step, (jnp.zeros_like(log_a), jnp.zeros_like(log_b)))
    log_plan = (f[:, None] + g[None, :] - cost) / epsilon + log_a[:, None] + log_b[None, :]
    return jnp.sum(jnp.exp(log_plan) * cost)


@_metric("sliced_wasserstein", Direction.LOWER, _XY, symmetric=True, non_negative=True, differentiable=True,
         invariances={"translation", "permutation"})
def sliced_wasserstein(x: ArrayLike, y: ArrayLike, *, projections: ArrayLike | None = None,
                       n_projections: int = 64, seed: int = 0) -> Array:
    """Sliced 2-Wasserstein distance between equal-size point clouds (n, d).

    The mean over unit directions of the squared 1-D W2 of the projections, square-rooted.
    Directions are ``projections`` (k, d) if given, else ``n_projections`` random ones from
    ``seed``.

    Example:
        >>> float(sliced_wasserstein(jnp.zeros((2, 1)), jnp.ones((2, 1))))
        1.0

    References:
        Bonneel et al. (2015), Sliced and Radon Wasserstein barycenters of measures.
    """
    a, b = _sets(x, y)
    if a.shape[0] != b.shape[0]:
        raise MetricInputError(f"x and y must hold the same number of samples; got {a.shape[0]} and {b.shape[0]}.")
    if projections is None:
        dirs = jax.random.normal(jax.random.key(seed), (n_projections, a.shape[1]), a.dtype)
    else:
        dirs = as_float(projections, "projections").astype(a.dtype)
        if dirs.ndim != 2 or dirs.shape[1] != a.shape[1]:
            raise MetricInputError(f"projections must be (k, {a.shape[1]}); got {tuple(dirs.shape)}.")
    dirs = dirs / jnp.linalg.norm(dirs, axis=1, keepdims=True)
    pa, pb = jnp.sort(a @ dirs.T, axis=0), jnp.sort(b @ dirs.T, axis=0)
    s = jnp.mean((pa - pb) ** 2)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)
