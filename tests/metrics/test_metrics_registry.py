"""The metric registry: lookup, filters, user precedence, plugins, argument roles and input errors."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as skm

from calibrax import metrics
from calibrax.core import CalibraxError, NotFoundError
from calibrax.metrics import METRICS, MetricInputError
from calibrax.metrics.registry import ROLE_PARAMETERS, MetricEntry, Signature, builtin


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
    metrics.register("my_metric", domain="custom", direction="lower", signature="pair", replace=True)(max)
    assert metrics.get("my_metric").function is max


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


# ----------------------------------------------------------------------------- argument roles
def _positional(entry: MetricEntry) -> list[inspect.Parameter]:
    params = inspect.signature(entry.function).parameters.values()
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


MULTI_INPUT = sorted(e.name for e in metrics.list_metrics() if e.builtin and len(e.inputs) >= 2)


def test_every_signature_declares_its_roles() -> None:
    for signature in Signature:
        assert signature.roles and all(role in ROLE_PARAMETERS for role in signature.roles), signature
    assert Signature.PREDICTIONS_TARGETS.roles == ("predictions", "targets")
    assert Signature.GENERATED_REAL.roles == ("generated", "real")


@pytest.mark.parametrize("name", MULTI_INPUT)
def test_function_parameters_follow_the_declared_roles(name: str) -> None:
    # the contract the harness and compute rely on: parameter i of the function is input role i
    entry = metrics.get(name)
    positional = _positional(entry)
    required = [p.name for p in positional if p.default is p.empty]
    assert len(required) <= len(entry.inputs) <= len(positional), (
        f"{name}: declares inputs {entry.inputs}; the function takes {[p.name for p in positional]}"
    )
    for param, role in zip(positional, entry.inputs, strict=False):
        assert param.name in ROLE_PARAMETERS[role], (
            f"{name}: declares inputs {entry.inputs}, but parameter {param.name!r} stands where {role!r} "
            f"goes; a {role!r} parameter is named one of {sorted(ROLE_PARAMETERS[role])}"
        )


CLUSTERS = np.array([0, 0, 1, 1, 2, 2, 2, 0])  # predictions: cluster ids
CLASSES = np.array([0, 0, 0, 1, 1, 1, 1, 1])  # targets: ground truth


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("homogeneity", skm.homogeneity_score),
        ("completeness", skm.completeness_score),
        ("v_measure", skm.v_measure_score),
        ("rand_index", skm.rand_score),
        ("adjusted_rand_index", skm.adjusted_rand_score),
        ("adjusted_mutual_information", skm.adjusted_mutual_info_score),
        ("normalized_mutual_info_clustering", skm.normalized_mutual_info_score),
        ("fowlkes_mallows", skm.fowlkes_mallows_score),
    ],
)
def test_clustering_takes_predictions_then_targets(name: str, reference: Any) -> None:
    # scikit-learn takes (labels_true, labels_pred); calibrax, like every other metric, (predictions, targets)
    assert skm.homogeneity_score(CLASSES, CLUSTERS) != pytest.approx(skm.completeness_score(CLASSES, CLUSTERS))
    assert metrics.get(name).inputs == ("predictions", "targets")
    got = float(metrics.compute(name, jnp.asarray(CLUSTERS), jnp.asarray(CLASSES)))
    assert got == pytest.approx(reference(CLASSES, CLUSTERS), rel=1e-5)


def test_homogeneity_is_not_completeness() -> None:
    hom = float(metrics.compute("homogeneity", CLUSTERS, CLASSES))
    com = float(metrics.compute("completeness", CLUSTERS, CLASSES))
    assert hom == pytest.approx(skm.homogeneity_score(CLASSES, CLUSTERS), rel=1e-5)
    assert com == pytest.approx(skm.completeness_score(CLASSES, CLUSTERS), rel=1e-5)
    assert abs(hom - com) > 0.05
    v2 = float(metrics.compute("v_measure", CLUSTERS, CLASSES, beta=2.0))  # beta weighs completeness
    assert v2 == pytest.approx(skm.v_measure_score(CLASSES, CLUSTERS, beta=2.0), rel=1e-5)


def test_generative_metrics_take_generated_then_real() -> None:
    real, generated = np.array([[0.0], [1.0], [2.0]]), np.array([[0.5], [9.0]])
    assert float(metrics.compute("manifold_precision", generated, real, k=1)) == 0.5  # 0.5 is inside, 9 is not
    assert metrics.compute("improved_precision", generated, real, k=1) == 0.5


def test_a_function_whose_parameters_swap_the_roles_is_refused(restore_registry: None) -> None:
    def swapped(labels_true: Any, labels_pred: Any) -> Any:
        return jnp.mean(labels_true == labels_pred)

    with pytest.raises(CalibraxError, match=r"parameter 1 is 'labels_true', which names the 'targets' input.*"
                                            r"fn\(predictions, targets\)"):
        metrics.register("swapped", domain="custom", direction="higher", signature="predictions_targets")(swapped)
    with pytest.raises(CalibraxError, match=r"fn\(x, y\), but its function takes the positional parameters \(x\)"):
        metrics.register("one_input", domain="custom", direction="lower", signature="pair")(lambda x: x)
    assert "swapped" not in METRICS and "one_input" not in METRICS


def test_entry_lists_its_inputs() -> None:
    assert metrics.get("homogeneity").to_dict()["inputs"] == ["predictions", "targets"]
    assert metrics.get("picp").inputs == ("lower", "upper", "targets")


def test_order_inputs_puts_named_inputs_in_the_declared_order() -> None:
    entry = metrics.get("homogeneity")
    assert entry.order_inputs({"targets": CLASSES, "predictions": CLUSTERS}) == (CLUSTERS, CLASSES)
    with pytest.raises(MetricInputError, match=r"unknown input role\(s\) \['target'\]. Did you mean 'targets'"):
        entry.order_inputs({"predictions": CLUSTERS, "target": CLASSES})
    with pytest.raises(MetricInputError, match=r"\['targets'\] missing from the inputs given \(predictions\)"):
        entry.order_inputs({"predictions": CLUSTERS})


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "match"),
    [
        ("homogeneity", (CLUSTERS,), {}, r"takes 2 positional inputs, in that order \(predictions, targets\); "
                                         r"got 1. Call calibrax.metrics.compute\('homogeneity', predictions, targets"),
        ("mse", (np.zeros(3), np.zeros(3), np.zeros(3)), {}, r"takes 2 positional inputs.*got 3"),
        ("mpiw", (np.zeros(3),), {}, r"takes 2 to 3 positional inputs, in that order \(lower, upper, targets\)"),
        ("mse", (np.zeros(3),), {"targets": np.zeros(3)}, r"got 1"),
        ("mse", (), {"predictions": np.zeros(3), "targets": np.zeros(3)}, r"got 0"),
        ("mpiw", (np.zeros(3), np.ones(3)), {"targets": np.zeros(3)},
         r"takes its inputs positionally.*\['targets'\] was passed as a keyword"),
        ("fbeta", (np.array([0, 1]), np.array([0, 1])), {"bta": 2.0}, r"no option 'bta'. Did you mean 'beta'\?"),
        ("entropy", (np.full(2, 0.5),), {"bse": 2}, r"no option 'bse'.* Its options: "),
        ("entropy", (np.full(2, 0.5), np.full(2, 0.5)), {}, r"takes 1 positional input \(x\); got 2"),
    ],
)
def test_wrong_calls_to_compute_say_what_would_be_right(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                                                        match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        metrics.compute(name, *args, **kwargs)
