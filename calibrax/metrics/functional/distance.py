"""Distances between two points ``fn(x, y)``, arrays of one shape read as flat vectors.

The definitions follow ``scipy.spatial.distance``; ``poincare`` is the hyperbolic distance in
the Poincare ball (points with norm below 1).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape, safe_div
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "angular_distance", "braycurtis", "canberra", "chebyshev", "correlation_distance", "cosine_distance",
    "euclidean", "hamming_distance", "jaccard_distance", "mahalanobis", "manhattan", "minkowski",
    "poincare", "sqeuclidean",
]

_PAIR = Signature.PAIR
_metric = partial(builtin, domain="distance")
_METRIC: dict[str, Any] = {"true_metric": True, "symmetric": True, "non_negative": True}


def _vectors(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(x, "x"), as_float(y, "y")
    check_same_shape(a, b, ("x", "y"))
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.ravel().astype(dtype), b.ravel().astype(dtype)


def _norm(v: Array) -> Array:
    # sqrt with a zero-safe gradient: d sqrt(s)/ds is infinite at 0
    s = jnp.sum(v * v)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


@_metric("euclidean", Direction.LOWER, _PAIR, differentiable=True,
         invariances={"translation", "rotation", "permutation"}, **_METRIC)
def euclidean(x: ArrayLike, y: ArrayLike) -> Array:
    """Euclidean (L2) distance.

    Example:
        >>> float(euclidean(jnp.array([0.0, 0.0]), jnp.array([3.0, 4.0])))
        5.0
    """
    a, b = _vectors(x, y)
    return _norm(a - b)


@_metric("sqeuclidean", Direction.LOWER, _PAIR, symmetric=True, non_negative=True, differentiable=True,
         invariances={"translation", "rotation", "permutation"})
def sqeuclidean(x: ArrayLike, y: ArrayLike) -> Array:
    """Squared Euclidean distance (not a true metric: no triangle inequality).

    Example:
        >>> float(sqeuclidean(jnp.array([0.0, 0.0]), jnp.array([3.0, 4.0])))
        25.0
    """
    a, b = _vectors(x, y)
    return jnp.sum((a - b) ** 2)


@_metric("manhattan", Direction.LOWER, _PAIR, differentiable=True, invariances={"translation", "permutation"},
         **_METRIC)
def manhattan(x: ArrayLike, y: ArrayLike) -> Array:
    """Manhattan (L1, city-block) distance.

    Example:
        >>> float(manhattan(jnp.array([0.0, 0.0]), jnp.array([3.0, -4.0])))
        7.0
    """
    a, b = _vectors(x, y)
    return jnp.sum(jnp.abs(a - b))


@_metric("chebyshev", Direction.LOWER, _PAIR, differentiable=True, invariances={"translation", "permutation"},
         **_METRIC)
def chebyshev(x: ArrayLike, y: ArrayLike) -> Array:
    """Chebyshev (L-infinity) distance.

    Example:
        >>> float(chebyshev(jnp.array([0.0, 0.0]), jnp.array([3.0, -4.0])))
        4.0
    """
    a, b = _vectors(x, y)
    return jnp.max(jnp.abs(a - b))


@_metric("minkowski", Direction.LOWER, _PAIR, differentiable=True, invariances={"translation", "permutation"},
         **_METRIC)
def minkowski(x: ArrayLike, y: ArrayLike, *, p: float = 3.0) -> Array:
    """Minkowski distance (sum |x - y|^p)^(1/p), a true metric for p >= 1.

    Example:
        >>> float(minkowski(jnp.array([0.0, 0.0]), jnp.array([3.0, 4.0]), p=2.0))
        5.0
    """
    if p < 1:
        raise MetricInputError(f"p must be >= 1 for minkowski to be a distance; got {p}.")
    a, b = _vectors(x, y)
    d = jnp.abs(a - b)
    m = jnp.max(d)  # scale out the largest term so d**p neither overflows nor underflows
    return jnp.where(m > 0, m * jnp.sum((d / jnp.where(m > 0, m, 1.0)) ** p) ** (1.0 / p), 0.0)


@_metric("cosine_distance", Direction.LOWER, _PAIR, symmetric=True, non_negative=True, differentiable=True,
         invariances={"rotation", "scale", "permutation"})
def cosine_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """1 - cos(angle between x and y).

    Example:
        >>> float(cosine_distance(jnp.array([1.0, 0.0]), jnp.array([0.0, 2.0])))
        1.0
    """
    a, b = _vectors(x, y)
    return jnp.clip(1.0 - jnp.dot(a, b) / (_norm(a) * _norm(b)), 0.0, 2.0)


@_metric("angular_distance", Direction.LOWER, _PAIR, differentiable=True,
         invariances={"rotation", "scale", "permutation"}, **_METRIC)
def angular_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """Angle between x and y divided by pi, in [0, 1]; a true metric on directions.

    Example:
        >>> float(angular_distance(jnp.array([1.0, 0.0]), jnp.array([0.0, 2.0])))
        0.5
    """
    a, b = _vectors(x, y)
    # atan2 of |a x b| and a.b is accurate at tiny angles, where arccos(cos) is not
    dot = jnp.dot(a, b)
    cross = _norm(a * _norm(b) ** 2 - b * dot) / _norm(b)
    return jnp.arctan2(cross, dot) / jnp.pi


@_metric("correlation_distance", Direction.LOWER, _PAIR, symmetric=True, non_negative=True, differentiable=True,
         invariances={"translation", "scale", "permutation"})
def correlation_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """1 - Pearson correlation of the entries of x and y.

    Example:
        >>> float(correlation_distance(jnp.array([1.0, 2.0, 3.0]), jnp.array([3.0, 2.0, 1.0])))
        2.0
    """
    a, b = _vectors(x, y)
    return cosine_distance(a - a.mean(), b - b.mean())


@_metric("canberra", Direction.LOWER, _PAIR, differentiable=True, invariances={"scale", "permutation"}, **_METRIC)
def canberra(x: ArrayLike, y: ArrayLike) -> Array:
    """Canberra distance sum |x - y| / (|x| + |y|) (a 0/0 term counts 0).

    Example:
        >>> float(canberra(jnp.array([1.0, 0.0]), jnp.array([3.0, 0.0])))
        0.5
    """
    a, b = _vectors(x, y)
    return jnp.sum(safe_div(jnp.abs(a - b), jnp.abs(a) + jnp.abs(b)))


@_metric("braycurtis", Direction.LOWER, _PAIR, symmetric=True, non_negative=True, differentiable=True,
         invariances={"scale", "permutation"})
def braycurtis(x: ArrayLike, y: ArrayLike) -> Array:
    """Bray-Curtis dissimilarity sum |x - y| / sum |x + y|.

    Example:
        >>> float(braycurtis(jnp.array([1.0, 0.0]), jnp.array([3.0, 0.0])))
        0.5
    """
    a, b = _vectors(x, y)
    return jnp.sum(jnp.abs(a - b)) / jnp.sum(jnp.abs(a + b))


@_metric("mahalanobis", Direction.LOWER, _PAIR, differentiable=True, invariances={"translation"}, **_METRIC)
def mahalanobis(x: ArrayLike, y: ArrayLike, *, inverse_covariance: ArrayLike | None = None) -> Array:
    """Mahalanobis distance sqrt((x - y)^T VI (x - y)) with VI the inverse covariance.

    Without ``inverse_covariance`` VI is the identity (the Euclidean distance).

    Example:
        >>> float(mahalanobis(jnp.array([0.0, 0.0]), jnp.array([2.0, 0.0]),
        ...                   inverse_covariance=jnp.diag(jnp.array([0.25, 1.0]))))
        1.0

    References:
        Mahalanobis (1936), On the generalised distance in statistics.
    """
    a, b = _vectors(x, y)
    d = a - b
    if inverse_covariance is None:
        return _norm(d)
    vi = as_float(inverse_covariance, "inverse_covariance")
    if vi.shape != (d.size, d.size):
        raise MetricInputError(
            f"inverse_covariance must be ({d.size}, {d.size}) for vectors of {d.size} entries; got "
            f"{tuple(vi.shape)}."
        )
    q = d @ vi @ d
    return jnp.where(q > 0, jnp.sqrt(jnp.where(q > 0, q, 1.0)), 0.0)


@_metric("hamming_distance", Direction.LOWER, _PAIR, invariances={"permutation"}, **_METRIC)
def hamming_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """Fraction of entries that differ.

    Example:
        >>> float(hamming_distance(jnp.array([1, 0, 1, 1]), jnp.array([1, 1, 1, 0])))
        0.5
    """
    a, b = jnp.asarray(x).ravel(), jnp.asarray(y).ravel()
    check_same_shape(a, b, ("x", "y"))
    return jnp.mean((a != b).astype(jnp.result_type(float)))


@_metric("jaccard_distance", Direction.LOWER, _PAIR, invariances={"permutation"}, **_METRIC)
def jaccard_distance(x: ArrayLike, y: ArrayLike) -> Array:
    """Jaccard distance of boolean vectors: disagreements over positions where either is set.

    Example:
        >>> float(jaccard_distance(jnp.array([1, 0, 1, 1]), jnp.array([1, 1, 1, 0])))
        0.5
    """
    a, b = jnp.asarray(x).ravel() != 0, jnp.asarray(y).ravel() != 0
    check_same_shape(a, b, ("x", "y"))
    either = jnp.sum(a | b).astype(jnp.result_type(float))
    return safe_div(jnp.sum(a ^ b).astype(either.dtype), either)


@_metric("poincare", Direction.LOWER, _PAIR, differentiable=True, invariances={"rotation", "permutation"},
         **_METRIC)
def poincare(x: ArrayLike, y: ArrayLike) -> Array:
    """Hyperbolic distance in the Poincare ball: arccosh(1 + 2|x - y|^2 / ((1 - |x|^2)(1 - |y|^2))).

    Example:
        >>> round(float(poincare(jnp.array([0.0, 0.0]), jnp.array([0.5, 0.0]))), 6)
        1.098612

    References:
        Nickel and Kiela (2017), Poincare embeddings for learning hierarchical representations.
    """
    a, b = _vectors(x, y)
    sq = jnp.sum((a - b) ** 2)
    den = (1.0 - jnp.sum(a * a)) * (1.0 - jnp.sum(b * b))
    z = 2.0 * sq / den
    # arccosh(1 + z) = log(1 + z + sqrt(z^2 + 2z)), stable for small z
    zs = jnp.where(z > 0, z, 1.0)
    return jnp.where(z > 0, jnp.log1p(zs + jnp.sqrt(zs * zs + 2.0 * zs)), 0.0)
