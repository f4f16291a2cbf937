"""The metric registry: lookup, filters, user precedence, plugins, and input errors."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calibrax import metrics
from calibrax.core import CalibraxError, NotFoundError
from calibrax.metrics import METRICS, MetricInputError
from calibrax.metrics.registry import MetricEntry, builtin


@pytest.fixture
def restore_registry() -> Iterator[None]:
    before = dict(METRICS._members)
    yield
    METRICS._members.clear()
    METRICS._members.update(before)


def test_counts_domains_and_names() -> None:
    builtins = [e for e in metrics.list_metrics() if e.builtin]
    assert len(builtins) >= 150
    assert len({e.domain for e in builtins}) >= 20
    assert all(e.name == e.name.lower() and " " not in e.name for e in builtins)


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'accuracy'"):
        metrics.get("acuracy")


def test_filters_by_properties_and_reject_unknown_ones() -> None:
    true_metrics = metrics.list_metrics(true_metric=True)
    assert true_metrics and all(e.true_metric for e in true_metrics)
    rotation = metrics.list_metrics(domain="geometric", invariances="rotation")
    assert rotation and all("rotation" in e.invariances for e in rotation)
    assert all(e.direction.value == "higher" for e in metrics.list_metrics(direction="higher"))
    with pytest.raises(CalibraxError, match="Did you mean 'symmetric'"):
        metrics.list_metrics(symetric=True)
    with pytest.raises(CalibraxError, match="Unknown metric domain"):
        metrics.list_metrics(domain="nope")


def test_compute_calls_the_metric() -> None:
    value = metrics.compute("mse", jnp.array([1.0, 3.0]), jnp.array([1.0, 1.0]))
    assert float(value) == 2.0


def _mine(predictions: Any, targets: Any) -> Any:
    return jnp.sum(predictions - targets)


def test_user_registration_replaces_a_builtin_and_wins_over_later_builtins(restore_registry: None) -> None:
    metrics.register("mse", domain="custom", direction="lower", signature="predictions_targets")(_mine)
    assert metrics.get("mse").function is _mine and not metrics.get("mse").builtin
    builtin("mse", metrics.get("mae").direction, metrics.get("mae").signature, domain="regression")(lambda p, t: 0)
    assert metrics.get("mse").function is _mine  # a built-in never overwrites a user's metric


def test_two_user_metrics_with_one_name_conflict(restore_registry: None) -> None:
    metrics.register("my_metric", domain="custom", direction="lower", signature="pair")(_mine)
    with pytest.raises(CalibraxError, match="already registered"):
        metrics.register("my_metric", domain="custom", direction="lower", signature="pair")(lambda a, b: 0)
    metrics.register("my_metric", domain="custom", direction="lower", signature="pair", replace=True)(len)
    assert metrics.get("my_metric").function is len


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(CalibraxError, match="unknown invariances"):
        MetricEntry("x_metric", _mine, "custom", "lower", "pair", invariances=frozenset({"shear"}))  # type: ignore[arg-type]
    with pytest.raises(CalibraxError, match="snake_case"):
        MetricEntry("Bad Name", _mine, "custom", "lower", "pair")  # type: ignore[arg-type]
    with pytest.raises(CalibraxError, match="Unknown metric option"):
        metrics.register("x_metric", domain="c", direction="lower", signature="pair", symetric=True)(_mine)


class _EntryPoint:
    def __init__(self, name: str, loaded: Any) -> None:
        self.name, self.value, self._loaded = name, f"plugin:{name}", loaded

    def load(self) -> Any:
        return self._loaded


def test_entry_point_plugins_load_and_override_builtins(restore_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = MetricEntry("mae", _mine, "custom", "lower", "pair")  # type: ignore[arg-type]
    broken = _EntryPoint("broken", object())
    monkeypatch.setattr(metadata, "entry_points", lambda group: [_EntryPoint("mae", entry), broken])
    monkeypatch.setattr(METRICS, "_entry_points_loaded", False)
    assert metrics.get("mae") is entry
    with pytest.raises(NotFoundError):
        metrics.get("broken")


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "match"),
    [
        ("mse", (np.zeros(3), np.zeros(4)), {}, r"same shape; got \(3,\) and \(4,\)"),
        ("mse", (np.zeros(3), np.zeros(3)), {"weights": np.ones(2)}, r"weights must have one value per sample"),
        ("f1", (np.array([0, 1, 2]), np.array([0, 1, 2])), {"average": "binary", "num_classes": 3},
         "average='binary' scores class 1 of two classes"),
        ("precision", (np.array([0, 1]), np.array([0, 1])), {"average": "mean"}, "average must be one of"),
        ("accuracy", (np.array([0.2, 0.8]), np.array([0, 1])), {}, "pass integer labels"),
        ("roc_auc", (np.zeros((3, 2, 2)), np.zeros(3, int)), {}, "scores must have shape"),
        ("minkowski", (np.zeros(3), np.ones(3)), {"p": 0.5}, "p must be >= 1"),
        ("ssim", (np.zeros((8, 8)), np.zeros((8, 8))), {}, "too small for a 11-pixel window"),
        ("ece", (np.full(3, 0.5), np.zeros(3, int)), {"n_bins": 0}, "n_bins must be a positive integer"),
        ("mahalanobis", (np.zeros(3), np.ones(3)), {"inverse_covariance": np.eye(2)}, r"must be \(3, 3\)"),
        ("sliced_wasserstein", (np.zeros((3, 2)), np.zeros((4, 2))), {}, "same number of samples"),
        ("fair_crps", (np.zeros((3, 1)), np.zeros(3)), {}, "at least 2 ensemble members"),
        ("kid", (np.zeros((3, 2)), np.zeros((3, 4))), {}, "same feature size"),
        ("perplexity", (np.zeros((3, 5)), np.zeros(4, int)), {}, "targets' shape plus a vocab axis"),
    ],
)
def test_bad_inputs_say_what_is_wrong(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        metrics.compute(name, *args, **kwargs)


def test_num_classes_is_required_under_jit() -> None:
    fn = jax.jit(lambda p, t: metrics.compute("precision", p, t, average="macro"))
    with pytest.raises(MetricInputError, match="pass num_classes=K"):
        fn(jnp.array([0, 1, 2]), jnp.array([0, 1, 1]))
