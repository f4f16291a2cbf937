"""Reference rows of the segmentation metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import PT, Inputs, case


def _seg(k: int, nc: bool = False) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        t = rng.integers(0, k, (16, 16))
        p = np.where(rng.random((16, 16)) < 0.7, t, rng.integers(0, k, (16, 16)))
        return (p.astype(np.int32), t.astype(np.int32)), ({"num_classes": k} if nc else {})
    return make


def _per_class(p: np.ndarray, t: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inter = np.array([np.sum((p == c) & (t == c)) for c in range(k)], float)
    return inter, np.array([np.sum(p == c) for c in range(k)], float), np.array([np.sum(t == c) for c in range(k)], float)


def _miou(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    u = a + b - i
    return float(np.mean(i[u > 0] / u[u > 0]))


def _fwiou(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    u = a + b - i
    return float(np.sum(b[u > 0] * i[u > 0] / u[u > 0]) / b.sum())


def _mdice(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    d = a + b
    return float(np.mean(2 * i[d > 0] / d[d > 0]))


case("iou", PT, _seg(2), lambda p, t: skm.jaccard_score(t.ravel(), p.ravel()))
case("dice", PT, _seg(2), lambda p, t: skm.f1_score(t.ravel(), p.ravel()))
case("mean_iou", PT, _seg(5, nc=True), _miou)
case("frequency_weighted_iou", PT, _seg(4, nc=True), _fwiou)
case("mean_dice", PT, _seg(3, nc=True), _mdice)
case("pixel_accuracy", PT, _seg(4), lambda p, t: np.mean(p == t))
