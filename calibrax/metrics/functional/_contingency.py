"""Contingency tables and entropies of labelings, shared by information and clustering."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from calibrax.metrics.functional._common import as_int, check_ndim, check_same_shape, infer_num_classes

__all__ = ["contingency", "entropy_of_counts", "mutual_info_of"]


def contingency(a: ArrayLike, b: ArrayLike, num_classes: int | None, names: tuple[str, str]) -> Array:
    """Counts n_ij of samples with label i in ``a`` and j in ``b`` (K x K, K static)."""
    x, y = as_int(a, names[0]), as_int(b, names[1])
    check_same_shape(x, y, names)
    check_ndim(x, names[0], (1,))
    k = infer_num_classes(num_classes, x, y)
    return jax.nn.one_hot(x, k).T @ jax.nn.one_hot(y, k)


def entropy_of_counts(counts: Array) -> Array:
    """Entropy in nats of the distribution given by ``counts``."""
    n = counts.sum()
    return jnp.log(n) - jnp.sum(xlogy(counts, counts)) / n


def mutual_info_of(table: Array) -> Array:
    """Mutual information in nats of a contingency table."""
    n = table.sum()
    outer = jnp.outer(table.sum(axis=1), table.sum(axis=0))
    terms = jnp.where(table > 0, table * (jnp.log(jnp.where(table > 0, table, 1.0) * n)
                                          - jnp.log(jnp.where(table > 0, outer, 1.0))), 0.0)
    return jnp.maximum(jnp.sum(terms) / n, 0.0)
