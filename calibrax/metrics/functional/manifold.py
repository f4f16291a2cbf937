"""Riemannian distances ``fn(a, b)``: between symmetric positive-definite matrices
``(n, n)``, and between subspaces spanned by the columns of ``(n, k)`` matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape
from calibrax.metrics.registry import Signature, builtin

__all__ = ["grassmann", "spd_affine_invariant", "spd_log_euclidean"]

_metric = partial(builtin, domain="manifold")
_DIST: dict[str, Any] = {"true_metric": True, "symmetric": True, "non_negative": True, "differentiable": True}


def _spd(a: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    x, y = as_float(a, "a"), as_float(b, "b")
    check_same_shape(x, y, ("a", "b"))
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise MetricInputError(f"SPD matrices must be square (n, n); got {tuple(x.shape)}.")
    return 0.5 * (x + x.T), 0.5 * (y + y.T)


def _eig_fn(m: Array, fn: Callable[[Array], Array]) -> Array:
    w, v = jnp.linalg.eigh(m)
    return (v * fn(w)) @ v.T


def _frob(m: Array) -> Array:
    s = jnp.sum(m * m)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


@_metric("spd_affine_invariant", Direction.LOWER, Signature.PAIR, **_DIST)
def spd_affine_invariant(a: ArrayLike, b: ArrayLike) -> Array:
    """Affine-invariant distance |log(A^-1/2 B A^-1/2)|_F = sqrt(sum log^2 eig(A^-1 B)).

    Example:
        >>> round(float(spd_affine_invariant(jnp.eye(2), jnp.e * jnp.eye(2))), 4)
        1.4142

    References:
        Pennec, Fillard and Ayache (2006), A Riemannian framework for tensor computing.
    """
    x, y = _spd(a, b)
    inv_sqrt = _eig_fn(x, lambda w: 1.0 / jnp.sqrt(w))
    m = inv_sqrt @ y @ inv_sqrt
    w = jnp.linalg.eigvalsh(0.5 * (m + m.T))
    return _frob(jnp.log(w))


@_metric("spd_log_euclidean", Direction.LOWER, Signature.PAIR, **_DIST)
def spd_log_euclidean(a: ArrayLike, b: ArrayLike) -> Array:
    """Log-Euclidean distance |log A - log B|_F.

    Example:
        >>> round(float(spd_log_euclidean(jnp.eye(2), jnp.e * jnp.eye(2))), 4)
        1.4142

    References:
        Arsigny et al. (2006), Log-Euclidean metrics for fast and simple calculus on diffusion
        tensors.
    """
    x, y = _spd(a, b)
    return _frob(_eig_fn(x, jnp.log) - _eig_fn(y, jnp.log))


@_metric("grassmann", Direction.LOWER, Signature.PAIR, true_metric=True, symmetric=True, non_negative=True,
         invariances={"scale"})
def grassmann(a: ArrayLike, b: ArrayLike) -> Array:
    """Geodesic distance between the column spans of a and b: sqrt(sum theta_i^2) over the
    principal angles.

    Example:
        >>> round(float(grassmann(jnp.array([[1.0], [0.0]]), jnp.array([[1.0], [1.0]]))), 4)
        0.7854

    References:
        Edelman, Arias and Smith (1998), The geometry of algorithms with orthogonality
        constraints.
    """
    x, y = as_float(a, "a"), as_float(b, "b")
    check_same_shape(x, y, ("a", "b"))
    if x.ndim != 2 or x.shape[1] > x.shape[0]:
        raise MetricInputError(f"subspace bases must be (n, k) with k <= n; got {tuple(x.shape)}.")
    qa, _ = jnp.linalg.qr(x)
    qb, _ = jnp.linalg.qr(y)
    cos = jnp.clip(jnp.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    # arccos loses precision near 0; asin of the sine of the angle is accurate there
    sin = jnp.linalg.svd(qb - qa @ (qa.T @ qb), compute_uv=False)
    theta = jnp.where(cos > 0.7, jnp.arcsin(jnp.clip(jnp.sort(sin), -1.0, 1.0)),
                      jnp.arccos(cos))
    return _frob(theta)
