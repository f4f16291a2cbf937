"""Jitted calibrax metrics against their scikit-learn equivalents on the same data.

One case per (metric, impl, size): ``impl=calibrax`` times the ``jax.jit`` metric on float32
device arrays, ``impl=sklearn`` times scikit-learn on float64 NumPy copies of the same values.
Data are drawn with a fixed seed and moved to the device in the factory, outside the timed
call. scikit-learn is a dev dependency: without it an ``impl=sklearn`` case fails with a
message saying so (run ``params.metric_speed.impl=[calibrax]`` to leave those cases out).
``benchmarks/meta/metrics_speed.py`` runs the suite and prints the speed-up table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import numpy as np

import calibrax
from calibrax.core.errors import BenchmarkError
from calibrax.metrics import get


@dataclass(frozen=True)
class MetricPair:
    """A calibrax metric, its scikit-learn equivalent and the kind of data both take."""

    data: str  # "regression" (float predictions), "labels" (binary labels), "scores" (probabilities)
    sklearn: str  # a function name in sklearn.metrics, called as fn(y_true, y_pred)
    kwargs: dict[str, Any] = field(default_factory=dict)  # calibrax options (static under jit)


PAIRS: dict[str, MetricPair] = {
    "mse": MetricPair("regression", "mean_squared_error"),
    "mae": MetricPair("regression", "mean_absolute_error"),
    "rmse": MetricPair("regression", "root_mean_squared_error"),
    "r2": MetricPair("regression", "r2_score"),
    "explained_variance": MetricPair("regression", "explained_variance_score"),
    "max_error": MetricPair("regression", "max_error"),
    "accuracy": MetricPair("labels", "accuracy_score"),
    "balanced_accuracy": MetricPair("labels", "balanced_accuracy_score", {"num_classes": 2}),
    "precision": MetricPair("labels", "precision_score"),
    "recall": MetricPair("labels", "recall_score"),
    "f1": MetricPair("labels", "f1_score"),
    "jaccard_score": MetricPair("labels", "jaccard_score"),
    "matthews_corrcoef": MetricPair("labels", "matthews_corrcoef", {"num_classes": 2}),
    "cohen_kappa": MetricPair("labels", "cohen_kappa_score", {"num_classes": 2}),
    "log_loss": MetricPair("scores", "log_loss"),
    "brier_score": MetricPair("scores", "brier_score_loss"),
    "roc_auc": MetricPair("scores", "roc_auc_score"),
    "average_precision": MetricPair("scores", "average_precision_score"),
}
"""Every metric the speed suite can time."""

SIZE = 1_000_000


def make_data(kind: str, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``(predictions, targets)`` of one kind; floats are float32 values.

    Args:
        kind: ``"regression"``, ``"labels"`` or ``"scores"`` (see :class:`MetricPair`).
        size: the number of elements.
        seed: the NumPy seed.

    Returns:
        predictions and targets as NumPy arrays (targets are int32 labels for the class kinds).
    """
    rng = np.random.default_rng(seed)
    if kind == "regression":
        t = rng.normal(size=size).astype(np.float32)
        return (t + 0.5 * rng.normal(size=size)).astype(np.float32), t
    t = rng.integers(0, 2, size).astype(np.int32)
    if kind == "labels":
        return np.where(rng.random(size) < 0.8, t, 1 - t).astype(np.int32), t
    logit = 1.5 * (2 * t - 1) + rng.normal(size=size)
    return np.clip(1.0 / (1.0 + np.exp(-logit)), 0.01, 0.99).astype(np.float32), t


def _pair(metric: str) -> MetricPair:
    if metric not in PAIRS:
        raise BenchmarkError(f"metric_speed has no scikit-learn pairing for {metric!r}; choose from {sorted(PAIRS)}.")
    return PAIRS[metric]


def sklearn_function(metric: str) -> Callable[..., Any]:
    """scikit-learn's equivalent of ``metric``, called as ``fn(y_true, y_pred)``.

    Raises:
        BenchmarkError: scikit-learn is not installed, or ``metric`` has no pairing.
    """
    pair = _pair(metric)
    try:
        import sklearn.metrics as skm
    except ImportError:
        raise BenchmarkError(
            "The impl=sklearn cases need scikit-learn, which is not installed: pip install scikit-learn "
            "(or calibrax[dev]), or time calibrax alone with params.metric_speed.impl=[calibrax]."
        ) from None
    fn: Callable[..., Any] = getattr(skm, pair.sklearn)
    return fn


def calibrax_function(metric: str) -> Callable[..., Any]:
    """The jitted calibrax metric with the options of its pairing, ``fn(predictions, targets)``."""
    pair = _pair(metric)
    return jax.jit(partial(get(metric).function, **pair.kwargs))


@calibrax.benchmark("metric_speed", params={"metric": sorted(PAIRS), "impl": ["calibrax", "sklearn"], "size": [SIZE]})
def metric_speed(metric: str, impl: str, size: int = SIZE) -> calibrax.Workload:
    """A calibrax metric (jitted, float32) or its scikit-learn equivalent (float64) on size elements."""
    pair = _pair(metric)
    p, t = make_data(pair.data, int(size))
    if impl == "calibrax":
        args = tuple(jax.device_put(x) for x in (p, t))
        return calibrax.Workload(calibrax_function(metric), args=args, items=int(size))
    if impl == "sklearn":
        p64 = p.astype(np.float64) if p.dtype.kind == "f" else p
        return calibrax.Workload(sklearn_function(metric), args=(t, p64), items=int(size))
    raise BenchmarkError(f"impl must be 'calibrax' or 'sklearn'; got {impl!r}.")
