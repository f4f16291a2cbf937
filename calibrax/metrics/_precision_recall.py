"""Improved precision and recall on k-NN feature manifolds, accumulated batch by batch (see
:mod:`calibrax.metrics.stateful`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from calibrax.metrics._state import FeatureBank, positive_int
from calibrax.metrics._stateful_base import Extractor, _RealGenerated

__all__ = ["PrecisionRecall", "PrecisionRecallValue"]


class PrecisionRecallValue(NamedTuple):
    """Improved precision and recall, each in [0, 1]."""

    precision: float
    recall: float


def _sq_dists(a: Array, b: Array) -> Array:
    d = jnp.sum(a * a, axis=1)[:, None] + jnp.sum(b * b, axis=1)[None, :] - 2.0 * (a @ b.T)
    return jnp.maximum(d, 0.0)


@partial(jax.jit, static_argnames=("k",))
def _kth_sq_radius(block: Array, support: Array, k: int) -> Array:
    """Squared distance from each row of ``block`` to its k-th nearest other row of ``support``."""
    return -jax.lax.top_k(-_sq_dists(block, support), k + 1)[0][:, k]


@jax.jit
def _covered(block: Array, support: Array, radius_sq: Array) -> Array:
    """Whether each row of ``block`` lies in at least one ball around a row of ``support``."""
    return jnp.any(_sq_dists(block, support) <= radius_sq[None, :], axis=1)


def _blocked(fn: Callable[..., Array], rows: np.ndarray, block_size: int, *args: Any) -> np.ndarray:
    """``fn(block, *args)`` over row blocks of ``rows`` (the last one zero-padded), concatenated."""
    size = min(block_size, rows.shape[0])
    out = []
    for start in range(0, rows.shape[0], size):
        block = rows[start:start + size]
        pad = size - block.shape[0]
        padded = np.pad(block, ((0, pad), (0, 0))) if pad else block
        out.append(np.asarray(fn(jnp.asarray(padded), *args))[:block.shape[0]])
    return np.concatenate(out)


class PrecisionRecall(_RealGenerated):
    """Improved precision and recall on feature manifolds estimated with k-NN balls.

    Precision is the fraction of generated samples inside at least one real sample's ball (radius:
    the distance to its k-th nearest real neighbour); recall swaps the roles. Distances run in row
    blocks of ``block_size``, so memory is ``block_size * n`` rather than ``n * n``.

    Args:
        extractor: ``None`` (inputs are features), a callable or an ``nnx.Module``.
        k: the neighbour that sets each ball's radius.
        block_size: rows per block of the distance computation.
        jit: compile an ``nnx.Module`` extractor.

    Raises:
        MetricInputError: ``k`` or ``block_size`` is not a positive integer.

    Example:
        >>> import numpy as np
        >>> pr = PrecisionRecall(k=1).update(np.array([[0.0], [1.0], [2.0]]), real=True)
        >>> pr.update(np.array([[0.5], [9.0]]), real=False).compute()
        PrecisionRecallValue(precision=0.5, recall=1.0)

    References:
        Kynkaanniemi et al. (2019), Improved precision and recall metric for assessing
        generative models.
    """

    _empty = FeatureBank

    def __init__(self, extractor: Extractor = None, *, k: int = 3, block_size: int = 1024, jit: bool = True) -> None:
        self.k, self.block_size = positive_int(k, "k"), positive_int(block_size, "block_size")
        super().__init__(extractor, jit)

    def _options(self) -> tuple[Any, ...]:
        return (self.k,)

    def _coverage(self, support: np.ndarray, queries: np.ndarray) -> float:
        radius_sq = jnp.asarray(_blocked(partial(_kth_sq_radius, k=self.k), support, self.block_size,
                                         jnp.asarray(support)))
        inside = _blocked(_covered, queries, self.block_size, jnp.asarray(support), radius_sq)
        return float(inside.mean())

    def compute(self) -> PrecisionRecallValue:
        """Precision and recall of everything seen so far.

        Raises:
            MetricInputError: a side holds k samples or fewer.
        """
        self._need(self.k + 1)
        real, generated = self.real.array(), self.generated.array()
        with jax.enable_x64(True):
            return PrecisionRecallValue(self._coverage(real, generated), self._coverage(generated, real))
