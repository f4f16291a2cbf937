"""Confusion counts and scikit-learn's ``average=`` rules, shared by classification metrics."""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import (
    as_int,
    check_option,
    check_same_shape,
    infer_num_classes,
    safe_div,
    sample_weights,
)

__all__ = ["Average", "average_ratio", "confusion", "label_pair", "resolve_classes"]

Average = Literal["binary", "micro", "macro", "weighted"] | None
AVERAGES = ("binary", "micro", "macro", "weighted", None)


def label_pair(predictions: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    """Predicted and true labels; scores of shape (n, K) become their argmax."""
    p = jnp.asarray(predictions)
    t = as_int(targets, "targets")
    if jnp.issubdtype(p.dtype, jnp.floating):
        if p.ndim != t.ndim + 1:
            raise MetricInputError(
                f"predictions are floats of shape {tuple(p.shape)}: pass integer labels of shape "
                f"{tuple(t.shape)}, or scores of shape {(*t.shape, 'K')} whose argmax is the label."
            )
        p = jnp.argmax(p, axis=-1)
    p = as_int(p, "predictions")
    check_same_shape(p, t)
    return p, t


def resolve_classes(average: Average, num_classes: int | None, *labels: Array) -> int:
    """The number of classes: 2 for ``average="binary"``, else given or read from labels."""
    check_option(average, "average", AVERAGES)
    if average == "binary":
        if num_classes not in (None, 2):
            raise MetricInputError(
                f"average='binary' scores class 1 of two classes, but num_classes={num_classes}; "
                "pass average='macro', 'micro' or 'weighted' for multiclass labels."
            )
        return 2
    return infer_num_classes(num_classes, *labels)


def confusion(p: Array, t: Array, num_classes: int, w: Array | None = None) -> Array:
    """The (K, K) confusion matrix, rows true classes, columns predictions, weighted."""
    oh_t = jax.nn.one_hot(t.ravel(), num_classes)
    oh_p = jax.nn.one_hot(p.ravel(), num_classes)
    if w is not None:
        oh_p = oh_p * w.reshape(-1, 1)
    return oh_t.T @ oh_p


def counts(cm: Array) -> tuple[Array, Array, Array, Array]:
    """Per-class true positives, false positives, false negatives and true negatives."""
    tp = jnp.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return tp, fp, fn, tn


def average_ratio(num: Array, den: Array, support: Array, average: Average) -> Array:
    """Average per-class ratios ``num / den`` (0 where ``den`` is 0) as scikit-learn does."""
    if average == "binary":
        return safe_div(num[1], den[1])
    if average == "micro":
        return safe_div(num.sum(), den.sum())
    ratio = safe_div(num, den)
    if average == "macro":
        return jnp.mean(ratio)
    if average == "weighted":
        return safe_div(jnp.sum(ratio * support), jnp.sum(support))
    return ratio


def weighted_confusion(predictions: ArrayLike, targets: ArrayLike, average: Average, num_classes: int | None,
                       weights: ArrayLike | None, mask: ArrayLike | None) -> Array:
    """Labels checked, classes resolved, and the weighted confusion matrix built."""
    p, t = label_pair(predictions, targets)
    k = resolve_classes(average, num_classes, p, t)
    w = sample_weights(t.size, None if weights is None else jnp.ravel(jnp.asarray(weights)),
                       None if mask is None else jnp.ravel(jnp.asarray(mask)))
    return confusion(p, t, k, w)
