"""Segmentation metrics on label maps of any shape: ``fn(predictions, targets)``.

``iou`` and ``dice`` take binary masks (nonzero is foreground); ``mean_iou``,
``frequency_weighted_iou`` and ``mean_dice`` take integer class maps. A score whose
denominator is empty (nothing predicted and nothing true) is 1: both agree that nothing is
there.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.functional._common import as_int, check_same_shape, infer_num_classes, safe_div
from calibrax.metrics.functional._confusion import confusion, label_pair
from calibrax.metrics.registry import Signature, builtin

__all__ = ["dice", "frequency_weighted_iou", "iou", "mean_dice", "mean_iou", "pixel_accuracy"]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="segmentation")
_SEG: dict[str, Any] = {"symmetric": True, "invariances": {"permutation"}}


def _masks(predictions: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    p, t = jnp.asarray(predictions) != 0, jnp.asarray(targets) != 0
    check_same_shape(p, t)
    return p.astype(jnp.result_type(float)), t.astype(jnp.result_type(float))


@_metric("iou", Direction.HIGHER, _PT, **_SEG)
def iou(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Intersection over union of two binary masks.

    Example:
        >>> round(float(iou(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 0]))), 4)
        0.3333
    """
    p, t = _masks(predictions, targets)
    inter = jnp.sum(p * t)
    union = jnp.sum(p) + jnp.sum(t) - inter
    return safe_div(inter, union, fill=1.0)


@_metric("dice", Direction.HIGHER, _PT, **_SEG)
def dice(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Dice coefficient 2|A and B| / (|A| + |B|) of two binary masks.

    Example:
        >>> float(dice(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 1, 0])))
        0.5
    """
    p, t = _masks(predictions, targets)
    return safe_div(2.0 * jnp.sum(p * t), jnp.sum(p) + jnp.sum(t), fill=1.0)


def _class_stats(predictions: ArrayLike, targets: ArrayLike, num_classes: int | None) -> tuple[Array, ...]:
    p, t = label_pair(predictions, targets)
    k = infer_num_classes(num_classes, p, t)
    cm = confusion(p, t, k)
    inter = jnp.diag(cm)
    pred_n, true_n = cm.sum(axis=0), cm.sum(axis=1)
    return inter, pred_n, true_n


@_metric("mean_iou", Direction.HIGHER, _PT, **_SEG)
def mean_iou(predictions: ArrayLike, targets: ArrayLike, *, num_classes: int | None = None) -> Array:
    """IoU per class averaged over the classes present in predictions or targets.

    Example:
        >>> round(float(mean_iou(jnp.array([0, 0, 1, 2]), jnp.array([0, 1, 1, 2]))), 4)
        0.6667
    """
    inter, pred_n, true_n = _class_stats(predictions, targets, num_classes)
    union = pred_n + true_n - inter
    present = union > 0
    return jnp.sum(safe_div(inter, union)) / jnp.sum(present)


@_metric("frequency_weighted_iou", Direction.HIGHER, _PT, invariances={"permutation"})
def frequency_weighted_iou(predictions: ArrayLike, targets: ArrayLike, *, num_classes: int | None = None) -> Array:
    """IoU per class weighted by the class's share of the targets.

    Example:
        >>> float(frequency_weighted_iou(jnp.array([0, 0, 1, 1]), jnp.array([0, 0, 1, 1])))
        1.0

    References:
        Long et al. (2015), Fully convolutional networks for semantic segmentation.
    """
    inter, pred_n, true_n = _class_stats(predictions, targets, num_classes)
    union = pred_n + true_n - inter
    return jnp.sum(true_n * safe_div(inter, union)) / jnp.sum(true_n)


@_metric("mean_dice", Direction.HIGHER, _PT, **_SEG)
def mean_dice(predictions: ArrayLike, targets: ArrayLike, *, num_classes: int | None = None) -> Array:
    """Dice per class averaged over the classes present in predictions or targets.

    Example:
        >>> float(mean_dice(jnp.array([0, 0, 1, 1]), jnp.array([0, 0, 1, 1])))
        1.0
    """
    inter, pred_n, true_n = _class_stats(predictions, targets, num_classes)
    den = pred_n + true_n
    return jnp.sum(safe_div(2.0 * inter, den)) / jnp.sum(den > 0)


@_metric("pixel_accuracy", Direction.HIGHER, _PT, **_SEG)
def pixel_accuracy(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Fraction of positions whose labels agree.

    Example:
        >>> float(pixel_accuracy(jnp.array([[0, 1], [2, 2]]), jnp.array([[0, 1], [2, 0]])))
        0.75
    """
    p, t = as_int(predictions, "predictions"), as_int(targets, "targets")
    check_same_shape(p, t)
    return jnp.mean((p == t).astype(jnp.result_type(float)))
