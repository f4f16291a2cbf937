"""Distances between two weighted undirected graphs on the same nodes, ``fn(a, b)`` with
symmetric adjacency matrices ``(n, n)`` (0 is no edge; a weight is a conductance for
``resistance_distance`` and a length for ``shortest_path_distance``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape
from calibrax.metrics.registry import Signature, builtin

__all__ = ["laplacian", "resistance_distance", "shortest_path_distance", "spectral_distance"]

_metric = partial(builtin, domain="graph")


def _adjacency(a: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    x, y = as_float(a, "a"), as_float(b, "b")
    check_same_shape(x, y, ("a", "b"))
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise MetricInputError(f"adjacency matrices must be square (n, n); got {tuple(x.shape)}.")
    return x, y


def laplacian(adjacency: Array) -> Array:
    """The combinatorial Laplacian D - A.

    Example:
        >>> laplacian(jnp.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    return jnp.diag(adjacency.sum(axis=1)) - adjacency


@_metric("spectral_distance", Direction.LOWER, Signature.PAIR, symmetric=True, non_negative=True)
def spectral_distance(a: ArrayLike, b: ArrayLike) -> Array:
    """Euclidean distance between the sorted Laplacian spectra of two graphs.

    Relabelling the nodes of a graph leaves its spectrum, hence the distance, unchanged; two
    different (cospectral) graphs can be at distance 0, so this is a pseudometric.

    Example:
        >>> float(spectral_distance(jnp.array([[0.0, 1.0], [1.0, 0.0]]), jnp.zeros((2, 2))))
        2.0

    References:
        Wilson and Zhu (2008), A study of graph spectra for comparing graphs and trees.
    """
    x, y = _adjacency(a, b)
    d = jnp.linalg.eigvalsh(laplacian(x)) - jnp.linalg.eigvalsh(laplacian(y))
    s = jnp.sum(d * d)
    return jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0)


def _shortest_paths(adj: Array) -> Array:
    n = adj.shape[0]
    dist = jnp.where(adj > 0, adj, jnp.inf).at[jnp.diag_indices(n)].set(0.0)

    def relax(k: int, d: Array) -> Array:
        return jnp.minimum(d, d[:, k][:, None] + d[k, :][None, :])

    return jax.lax.fori_loop(0, n, relax, dist)


@_metric("shortest_path_distance", Direction.LOWER, Signature.PAIR, symmetric=True, non_negative=True)
def shortest_path_distance(a: ArrayLike, b: ArrayLike) -> Array:
    """Mean absolute difference of all-pairs shortest-path lengths (Floyd-Warshall); an
    unreachable pair in either graph gives inf.

    Example:
        >>> path = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> round(float(shortest_path_distance(path, jnp.ones((3, 3)) - jnp.eye(3))), 4)
        0.2222

    References:
        Floyd (1962), Algorithm 97: shortest path.
    """
    x, y = _adjacency(a, b)
    return jnp.mean(jnp.abs(_shortest_paths(x) - _shortest_paths(y)))


def _resistances(adj: Array) -> Array:
    lp = jnp.linalg.pinv(laplacian(adj), hermitian=True)
    d = jnp.diag(lp)
    return d[:, None] + d[None, :] - 2.0 * lp


@_metric("resistance_distance", Direction.LOWER, Signature.PAIR, symmetric=True, non_negative=True,
         differentiable=True)
def resistance_distance(a: ArrayLike, b: ArrayLike) -> Array:
    """Mean absolute difference of the effective-resistance matrices of two connected graphs.

    Example:
        >>> g = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(resistance_distance(g, 2.0 * g)), 4)
        0.25

    References:
        Klein and Randic (1993), Resistance distance.
    """
    x, y = _adjacency(a, b)
    return jnp.mean(jnp.abs(_resistances(x) - _resistances(y)))
