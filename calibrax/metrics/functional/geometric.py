"""Distances between point sets ``fn(x, y)``, each ``(points, dims)``.

Definitions: ``chamfer`` is the sum of both mean nearest-neighbour squared distances;
``hausdorff`` the larger directed Hausdorff distance (SciPy's ``directed_hausdorff``);
``rmsd`` the root mean squared deviation of corresponding points, after the optimal
rotation (Kabsch) when ``align=True``.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_ndim, pairwise_sq_dists
from calibrax.metrics.registry import Signature, builtin

__all__ = ["chamfer", "directed_hausdorff", "hausdorff", "rmsd"]

_metric = partial(builtin, domain="geometric")
_RIGID = {"translation", "rotation", "permutation"}


def _clouds(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(x, "x"), as_float(y, "y")
    check_ndim(a, "x", (2,))
    check_ndim(b, "y", (2,))
    if a.shape[1] != b.shape[1]:
        raise MetricInputError(f"x and y must have the same number of dimensions; got {a.shape} and {b.shape}.")
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _sqrt0(s: Array) -> Array:
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


@_metric("chamfer", Direction.LOWER, Signature.SAMPLES, symmetric=True, non_negative=True, differentiable=True,
         invariances=_RIGID)
def chamfer(x: ArrayLike, y: ArrayLike) -> Array:
    """Chamfer distance: mean over x of min |x - y|^2 plus mean over y of min |y - x|^2.

    Example:
        >>> float(chamfer(jnp.array([[0.0, 0.0]]), jnp.array([[1.0, 0.0], [2.0, 0.0]])))
        3.5

    References:
        Fan, Su and Guibas (2017), A point set generation network for 3D object reconstruction.
    """
    d = pairwise_sq_dists(*_clouds(x, y))
    return jnp.mean(jnp.min(d, axis=1)) + jnp.mean(jnp.min(d, axis=0))


@_metric("directed_hausdorff", Direction.LOWER, Signature.SAMPLES, non_negative=True, differentiable=True,
         invariances=_RIGID)
def directed_hausdorff(x: ArrayLike, y: ArrayLike) -> Array:
    """Directed Hausdorff distance: the largest distance from a point of x to its nearest in y.

    Example:
        >>> float(directed_hausdorff(jnp.array([[0.0, 0.0]]), jnp.array([[3.0, 4.0], [6.0, 8.0]])))
        5.0
    """
    d = pairwise_sq_dists(*_clouds(x, y))
    return _sqrt0(jnp.max(jnp.min(d, axis=1)))


@_metric("hausdorff", Direction.LOWER, Signature.SAMPLES, true_metric=True, symmetric=True, non_negative=True,
         differentiable=True, invariances=_RIGID)
def hausdorff(x: ArrayLike, y: ArrayLike) -> Array:
    """Hausdorff distance, the larger of the two directed distances.

    Example:
        >>> float(hausdorff(jnp.array([[0.0, 0.0]]), jnp.array([[3.0, 4.0], [6.0, 8.0]])))
        10.0

    References:
        Huttenlocher, Klanderman and Rucklidge (1993), Comparing images using the Hausdorff
        distance.
    """
    d = pairwise_sq_dists(*_clouds(x, y))
    return _sqrt0(jnp.maximum(jnp.max(jnp.min(d, axis=1)), jnp.max(jnp.min(d, axis=0))))


def _kabsch(a: Array, b: Array) -> tuple[Array, Array]:
    """``a`` centred and turned by the rotation that best fits it onto centred ``b``."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    u, _, vt = jnp.linalg.svd(a.T @ b)
    sign = jnp.sign(jnp.linalg.det(u @ vt))
    fix = jnp.ones(a.shape[1], a.dtype).at[-1].set(jnp.where(sign == 0, 1.0, sign))
    return a @ (u * fix) @ vt, b


@_metric("rmsd", Direction.LOWER, Signature.PAIR, true_metric=True, symmetric=True, non_negative=True,
         differentiable=True, invariances={"translation", "rotation", "permutation"})
def rmsd(x: ArrayLike, y: ArrayLike, *, align: bool = False) -> Array:
    """Root mean squared deviation of corresponding points; ``align=True`` first removes the
    best translation and rotation (Kabsch).

    Example:
        >>> float(rmsd(jnp.array([[0.0, 0.0], [1.0, 0.0]]), jnp.array([[0.0, 1.0], [1.0, 1.0]])))
        1.0

    References:
        Kabsch (1976), A solution for the best rotation to relate two sets of vectors.
    """
    a, b = _clouds(x, y)
    if a.shape != b.shape:
        raise MetricInputError(f"rmsd compares corresponding points: x and y need one shape; got {a.shape} and {b.shape}.")
    if align:
        a, b = _kabsch(a, b)
    return _sqrt0(jnp.sum((a - b) ** 2) / a.shape[0])
