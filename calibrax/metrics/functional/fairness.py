"""Group fairness of binary decisions: ``fn(predictions, targets, groups)`` with 0/1
predictions and targets and integer group ids in ``[0, num_groups)`` (groups absent from the
data are ignored). Definitions follow Fairlearn.
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
from calibrax.metrics.functional._common import as_int, check_same_shape, safe_div
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "demographic_parity_difference", "demographic_parity_ratio", "disparate_impact",
    "equal_opportunity_difference", "equalized_odds_difference",
]

_G = Signature.GROUPS
_metric = partial(builtin, domain="fairness")
_FAIR: dict[str, Any] = {"invariances": {"permutation", "relabeling"}}


def _inputs(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, num_groups: int) -> tuple[Array, ...]:
    p, t, g = as_int(predictions, "predictions"), as_int(targets, "targets"), as_int(groups, "groups")
    check_same_shape(p, t)
    check_same_shape(p, g, ("predictions", "groups"))
    if num_groups < 2:
        raise MetricInputError(f"num_groups must be at least 2; got {num_groups}.")
    oh = jax.nn.one_hot(g.ravel(), num_groups)
    return (p.ravel() > 0).astype(oh.dtype), (t.ravel() > 0).astype(oh.dtype), oh


def _rates(values: Array, select: Array, oh: Array) -> tuple[Array, Array]:
    """Per-group mean of ``values`` over the selected samples, and which groups have any."""
    w = oh * select[:, None]
    n = w.sum(axis=0)
    return safe_div(values @ w, n), n > 0


def _spread(rate: Array, present: Array) -> Array:
    return jnp.max(jnp.where(present, rate, -jnp.inf)) - jnp.min(jnp.where(present, rate, jnp.inf))


@_metric("demographic_parity_difference", Direction.LOWER, _G, non_negative=True, **_FAIR)
def demographic_parity_difference(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, *,
                                  num_groups: int = 2) -> Array:
    """Largest minus smallest selection rate P(prediction = 1 | group).

    Example:
        >>> float(demographic_parity_difference(jnp.array([1, 1, 0, 1]), jnp.array([1, 0, 0, 1]),
        ...                                     jnp.array([0, 0, 1, 1])))
        0.5

    References:
        Calders and Verwer (2010), Three naive Bayes approaches for discrimination-free
        classification.
    """
    p, _, oh = _inputs(predictions, targets, groups, num_groups)
    return _spread(*_rates(p, jnp.ones_like(p), oh))


@_metric("demographic_parity_ratio", Direction.HIGHER, _G, non_negative=True, **_FAIR)
def demographic_parity_ratio(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, *,
                             num_groups: int = 2) -> Array:
    """Smallest over largest selection rate (1 is parity; 0/0 counts as 0).

    Example:
        >>> float(demographic_parity_ratio(jnp.array([1, 1, 0, 1]), jnp.array([1, 0, 0, 1]),
        ...                                jnp.array([0, 0, 1, 1])))
        0.5
    """
    p, _, oh = _inputs(predictions, targets, groups, num_groups)
    rate, present = _rates(p, jnp.ones_like(p), oh)
    return safe_div(jnp.min(jnp.where(present, rate, jnp.inf)), jnp.max(jnp.where(present, rate, -jnp.inf)))


@_metric("equal_opportunity_difference", Direction.LOWER, _G, non_negative=True, **_FAIR)
def equal_opportunity_difference(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, *,
                                 num_groups: int = 2) -> Array:
    """Largest minus smallest true positive rate across groups.

    Example:
        >>> float(equal_opportunity_difference(jnp.array([1, 0, 1, 1]), jnp.array([1, 1, 1, 1]),
        ...                                    jnp.array([0, 0, 1, 1])))
        0.5

    References:
        Hardt, Price and Srebro (2016), Equality of opportunity in supervised learning.
    """
    p, t, oh = _inputs(predictions, targets, groups, num_groups)
    return _spread(*_rates(p, t, oh))


@_metric("equalized_odds_difference", Direction.LOWER, _G, non_negative=True, **_FAIR)
def equalized_odds_difference(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, *,
                              num_groups: int = 2) -> Array:
    """The larger of the across-group spreads of true and false positive rates.

    Example:
        >>> float(equalized_odds_difference(jnp.array([1, 0, 1, 1]), jnp.array([1, 0, 1, 0]),
        ...                                 jnp.array([0, 0, 1, 1])))
        1.0

    References:
        Hardt, Price and Srebro (2016), Equality of opportunity in supervised learning.
    """
    p, t, oh = _inputs(predictions, targets, groups, num_groups)
    return jnp.maximum(_spread(*_rates(p, t, oh)), _spread(*_rates(p, 1.0 - t, oh)))


@_metric("disparate_impact", Direction.HIGHER, _G, non_negative=True, invariances={"permutation"})
def disparate_impact(predictions: ArrayLike, targets: ArrayLike, groups: ArrayLike, *, privileged: int = 1,
                     num_groups: int = 2) -> Array:
    """Selection rate of the other groups over that of the ``privileged`` group (the
    four-fifths rule flags values below 0.8).

    Example:
        >>> float(disparate_impact(jnp.array([1, 0, 1, 1]), jnp.array([1, 0, 1, 0]), jnp.array([0, 0, 1, 1])))
        0.5

    References:
        Feldman et al. (2015), Certifying and removing disparate impact.
    """
    if not 0 <= privileged < num_groups:
        raise MetricInputError(f"privileged must be a group id in [0, {num_groups}); got {privileged}.")
    p, _, oh = _inputs(predictions, targets, groups, num_groups)
    priv = oh[:, privileged]
    rest = 1.0 - priv
    return safe_div(safe_div(p @ rest, rest.sum()), safe_div(p @ priv, priv.sum()))
