"""The quality metrics a benchmark declares: read into frozen specs, computed on a Workload's outputs."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

from calibrax.core import BenchmarkError, ConfigError, Direction, NotFoundError
from calibrax.metrics import MetricSpec, compute_metrics, parse_metric_specs

OUTPUTS = {
    "predictions": jnp.array([0, 1, 1, 0, 1]),
    "probabilities": jnp.array([0.2, 0.9, 0.6, 0.4, 0.8]),
    "targets": jnp.array([0, 1, 0, 0, 1]),
}


def test_specs_from_names_and_mappings() -> None:
    specs = parse_metric_specs("b", ["accuracy", {"name": "brier_score", "predictions": "probabilities"},
                                     {"name": "fbeta", "kwargs": {"beta": 2.0}}])
    assert specs[1] == MetricSpec("brier_score", "probabilities") and specs[2].kwargs == {"beta": 2.0}


@pytest.mark.parametrize(
    "items, error, match",
    [
        (["acuracy"], NotFoundError, "Did you mean 'accuracy'"),
        ([{"metric": "accuracy"}], ConfigError, r"metrics\[0\]: Unknown key 'metric'. Known keys: inputs, kwargs, name"),
        ([{"name": "accuracy", "kwarg": {}}], ConfigError, r"Unknown key 'kwarg'. Did you mean 'kwargs'\?"),
        (["accuracy", {"predictions": "p"}], ConfigError, r"metrics\[1\].name must be a metric name"),
        ([{"name": "accuracy", "targets": 3}], ConfigError, r"metrics\[0\].targets must be an output key"),
        ([{"name": "fbeta", "kwargs": [2.0]}], ConfigError, r"metrics\[0\].kwargs must be a mapping"),
        ([[1]], ConfigError, "each entry of 'metrics' is a metric name or a mapping"),
        ([3], ConfigError, "got 3"),
        ([{"name": "accuracy", "inputs": {"scores": "x"}}], ConfigError,
         r"no input role\(s\) \['scores'\] .* its inputs are, in order: predictions, targets"),
    ],
)
def test_bad_metric_entries(items: list, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        parse_metric_specs("b", items)


def test_metrics_become_measures_with_their_directions() -> None:
    specs = parse_metric_specs("b", ["accuracy", {"name": "brier_score", "predictions": "probabilities"}])
    out = compute_metrics("b", lambda: OUTPUTS, specs)
    assert out["accuracy"].samples == (pytest.approx(0.8),) and out["accuracy"].measure.direction is Direction.HIGHER
    assert out["brier_score"].measure.direction is Direction.LOWER
    expected = float(jnp.mean((OUTPUTS["probabilities"] - OUTPUTS["targets"]) ** 2))
    assert out["brier_score"].samples[0] == pytest.approx(expected, rel=1e-5)


def test_inputs_map_each_role_of_a_metric_to_an_output() -> None:
    outputs = {"labels": jnp.array([0, 0, 1, 1]), "clusters": jnp.array([0, 1, 2, 2])}
    specs = parse_metric_specs("b", [{"name": "homogeneity", "inputs": {"predictions": "clusters", "targets": "labels"}},
                                     {"name": "completeness", "predictions": "clusters", "targets": "labels"}])
    out = compute_metrics("b", outputs, specs)
    assert out["homogeneity"].samples[0] == pytest.approx(1.0)  # every cluster is pure
    assert out["completeness"].samples[0] < 0.9  # class 0 is split over two clusters
    assert out["homogeneity"].provenance.inputs == ("clusters", "labels")


def test_missing_outputs_are_benchmark_errors() -> None:
    with pytest.raises(BenchmarkError, match="has no outputs mapping"):
        compute_metrics("b", None, [MetricSpec("accuracy")])
    with pytest.raises(BenchmarkError, match=r"reads outputs \['scores'\]"):
        compute_metrics("b", OUTPUTS, [MetricSpec("accuracy", predictions="scores")])


def test_declared_metrics_equal_the_eager_values_through_jit_or_not() -> None:
    # jit_compatible metrics are computed jitted (one compile), others and lists eagerly: same values
    from calibrax.metrics import compute, get

    specs = [MetricSpec("accuracy"), MetricSpec("brier_score", "probabilities"), MetricSpec("roc_auc", "probabilities"),
             MetricSpec("fbeta", kwargs={"beta": 2.0})]
    assert all(get(s.name).jit_compatible for s in specs)
    for outputs in (OUTPUTS, {k: v.tolist() for k, v in OUTPUTS.items()}):
        out = compute_metrics("b", outputs, specs)
        for s in specs:
            eager = float(compute(s.name, OUTPUTS[s.predictions or "predictions"], OUTPUTS["targets"], **s.kwargs))
            assert out[s.name].samples[0] == pytest.approx(eager, rel=1e-6), s.name
