"""Information-theoretic quantities in nats (``base=2`` gives bits where offered).

``entropy(p)`` and ``cross_entropy(p, q)`` take probability vectors on the last axis; the
rest take two integer labelings of the same samples ``fn(x, y)``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape, safe_div
from calibrax.metrics.functional._contingency import contingency, entropy_of_counts, mutual_info_of
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "conditional_entropy", "cross_entropy", "entropy", "joint_entropy", "mutual_information",
    "normalized_mutual_information", "variation_of_information",
]

_metric = partial(builtin, domain="information")
_LABELINGS: dict[str, Any] = {"invariances": {"permutation", "relabeling"}}
_NAMES = ("x", "y")


def _base(value: Array, base: float | None) -> Array:
    if base is None:
        return value
    if base <= 0 or base == 1:
        raise MetricInputError(f"base must be positive and not 1; got {base}.")
    return value / jnp.log(base)


@_metric("entropy", Direction.INFO, Signature.SINGLE, non_negative=True, differentiable=True,
         invariances={"scale"})
def entropy(p: ArrayLike, *, base: float | None = None) -> Array:
    """Shannon entropy -sum p log p of a distribution (normalised first, as SciPy does).

    Rows of a 2-D input are separate distributions; their entropies are averaged.

    Example:
        >>> float(entropy(jnp.array([0.5, 0.5]), base=2))
        1.0

    References:
        Shannon (1948), A mathematical theory of communication.
    """
    a = as_float(p, "p")
    a = a / jnp.sum(a, axis=-1, keepdims=True)
    return _base(jnp.mean(-jnp.sum(xlogy(a, a), axis=-1)), base)


@_metric("cross_entropy", Direction.LOWER, Signature.DISTRIBUTIONS, non_negative=True, differentiable=True,
         invariances={"permutation"})
def cross_entropy(p: ArrayLike, q: ArrayLike, *, base: float | None = None) -> Array:
    """Cross-entropy -sum p log q of q relative to p.

    Example:
        >>> round(float(cross_entropy(jnp.array([0.5, 0.5]), jnp.array([0.25, 0.75]))), 6)
        0.836988
    """
    a, b = as_float(p, "p"), as_float(q, "q")
    check_same_shape(a, b, ("p", "q"))
    return _base(jnp.mean(-jnp.sum(xlogy(a, b), axis=-1)), base)


@_metric("mutual_information", Direction.INFO, Signature.PAIR, symmetric=True, non_negative=True, **_LABELINGS)
def mutual_information(x: ArrayLike, y: ArrayLike, *, num_classes: int | None = None) -> Array:
    """Mutual information I(X; Y) of two labelings (scikit-learn's mutual_info_score).

    Example:
        >>> round(float(mutual_information(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0]))), 6)
        0.693147
    """
    return mutual_info_of(contingency(x, y, num_classes, _NAMES))


@_metric("joint_entropy", Direction.INFO, Signature.PAIR, symmetric=True, non_negative=True, **_LABELINGS)
def joint_entropy(x: ArrayLike, y: ArrayLike, *, num_classes: int | None = None) -> Array:
    """Joint entropy H(X, Y) of two labelings.

    Example:
        >>> round(float(joint_entropy(jnp.array([0, 0, 1, 1]), jnp.array([0, 1, 0, 1]))), 6)
        1.386294
    """
    return entropy_of_counts(contingency(x, y, num_classes, _NAMES).ravel())


@_metric("conditional_entropy", Direction.INFO, Signature.PAIR, non_negative=True, **_LABELINGS)
def conditional_entropy(x: ArrayLike, y: ArrayLike, *, num_classes: int | None = None) -> Array:
    """Conditional entropy H(X | Y) = H(X, Y) - H(Y).

    Example:
        >>> float(conditional_entropy(jnp.array([0, 0, 1, 1]), jnp.array([0, 0, 1, 1])))
        0.0
    """
    table = contingency(x, y, num_classes, _NAMES)
    return jnp.maximum(entropy_of_counts(table.ravel()) - entropy_of_counts(table.sum(axis=0)), 0.0)


@_metric("normalized_mutual_information", Direction.HIGHER, Signature.PAIR, symmetric=True, non_negative=True,
         **_LABELINGS)
def normalized_mutual_information(x: ArrayLike, y: ArrayLike, *, num_classes: int | None = None) -> Array:
    """I(X; Y) divided by the arithmetic mean of H(X) and H(Y) (scikit-learn's default).

    Two labelings that each have a single class score 1.

    Example:
        >>> float(normalized_mutual_information(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0
    """
    table = contingency(x, y, num_classes, _NAMES)
    hx, hy = entropy_of_counts(table.sum(axis=1)), entropy_of_counts(table.sum(axis=0))
    both_trivial = (hx == 0) & (hy == 0)
    return jnp.where(both_trivial, 1.0, safe_div(mutual_info_of(table), 0.5 * (hx + hy)))


@_metric("variation_of_information", Direction.LOWER, Signature.PAIR, true_metric=True, symmetric=True,
         non_negative=True, **_LABELINGS)
def variation_of_information(x: ArrayLike, y: ArrayLike, *, num_classes: int | None = None) -> Array:
    """Variation of information H(X | Y) + H(Y | X), a true metric on partitions.

    Example:
        >>> float(variation_of_information(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        0.0

    References:
        Meila (2007), Comparing clusterings: an information based distance.
    """
    table = contingency(x, y, num_classes, _NAMES)
    h_joint = entropy_of_counts(table.ravel())
    hx, hy = entropy_of_counts(table.sum(axis=1)), entropy_of_counts(table.sum(axis=0))
    return jnp.maximum(2.0 * h_joint - hx - hy, 0.0)
