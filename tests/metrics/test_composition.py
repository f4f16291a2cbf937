"""Metric collections, weighted sums, domain suites and threshold metrics."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as skm

from calibrax.core import CalibraxError, NotFoundError
from calibrax.metrics import MetricInputError, composition
from calibrax.metrics.composition import (
    DOMAIN_SUITES,
    MetricCollection,
    ThresholdMetric,
    WeightedSum,
    collection_for_domain,
)


def _reg(seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.normal(size=n)
    return (t + 0.3 * rng.normal(size=n)).astype(np.float32), t.astype(np.float32)


def _labels(seed: int = 0, n: int = 60, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    return np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n)).astype(np.int32), t.astype(np.int32)


def test_collection_matches_each_metric_and_traces_once() -> None:
    p, t = _reg()
    c = MetricCollection(["mse", "mae", "r2"])
    out = c(p, t)
    assert list(out) == ["mse", "mae", "r2"]
    np.testing.assert_allclose(float(out["mse"]), skm.mean_squared_error(t, p), rtol=1e-5)
    np.testing.assert_allclose(float(out["mae"]), skm.mean_absolute_error(t, p), rtol=1e-5)
    np.testing.assert_allclose(float(out["r2"]), skm.r2_score(t, p), rtol=1e-5)
    c(p + 1.0, t)
    assert c._jitted is not None and c._jitted._cache_size() == 1  # one compiled pass, reused


def test_collection_with_options_and_keys_inside_jit() -> None:
    p, t = _labels()
    c = MetricCollection({"f1_macro": ("f1", {"average": "macro", "num_classes": 3}),
                          "f1_micro": ("f1", {"average": "micro", "num_classes": 3}), "acc": "accuracy"})
    out = jax.jit(lambda a, b: c(a, b))(p, t)
    np.testing.assert_allclose(float(out["f1_macro"]), skm.f1_score(t, p, average="macro"), rtol=1e-5)
    np.testing.assert_allclose(float(out["f1_micro"]), skm.f1_score(t, p, average="micro"), rtol=1e-5)
    np.testing.assert_allclose(float(out["acc"]), skm.accuracy_score(t, p), rtol=1e-5)
    assert c.directions["acc"].value == "higher"


def test_unknown_metric_names_close_matches() -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'accuracy'"):
        MetricCollection(["mse", "acuracy"])
    with pytest.raises(NotFoundError, match="Did you mean 'mae'"):
        WeightedSum({"maee": 1.0})


@pytest.mark.parametrize(
    ("metrics", "match"),
    [
        ([], "at least one metric"),
        (["mse", "ssim", ("mse", "x")], "registry name or a \\(name, options\\) pair"),
        (["mse", "mse"], "appear twice"),
        (["mse", "demographic_parity_difference"], "same number of them"),
    ],
)
def test_bad_collections_are_refused(metrics: list, match: str) -> None:
    with pytest.raises(CalibraxError, match=match):
        MetricCollection(metrics)


def test_mismatched_shapes_give_a_clear_error() -> None:
    c = MetricCollection(["mse", "mae"])
    with pytest.raises(MetricInputError, match=r"same number of rows each; got shapes \(5,\), \(4,\)"):
        c(np.zeros(5), np.zeros(4))
    with pytest.raises(MetricInputError, match="takes 2 input"):
        c(np.zeros(5))
    with pytest.raises(MetricInputError, match=r"Metric 'mse' \(mse\) of the collection: .*same shape"):
        c(np.zeros((5, 2)), np.zeros((5, 3)))


def test_weighted_sum_value_direction_and_gradient() -> None:
    p, t = _reg(1)
    s = WeightedSum({"mse": 2.0, "mae": 0.5})
    expected = 2.0 * skm.mean_squared_error(t, p) + 0.5 * skm.mean_absolute_error(t, p)
    np.testing.assert_allclose(float(s(p, t)), expected, rtol=1e-5)
    assert s.direction.value == "lower"
    grad = jax.grad(lambda x: s(x, t))(jnp.asarray(p))
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    assert WeightedSum({"mse": 1.0, "r2": 1.0}).direction.value == "info"
    with pytest.raises(CalibraxError, match="finite"):
        WeightedSum({"mse": float("nan")})


@pytest.mark.parametrize("domain", sorted(DOMAIN_SUITES))
def test_every_domain_suite_resolves_to_one_signature(domain: str) -> None:
    c = collection_for_domain(domain, num_classes=3)
    assert c.names == list(DOMAIN_SUITES[domain])


def test_domain_suites_compute_and_pass_options_only_where_taken() -> None:
    p, t = _reg(2)
    reg = collection_for_domain("regression")(p, t)
    np.testing.assert_allclose(float(reg["rmse"]), np.sqrt(skm.mean_squared_error(t, p)), rtol=1e-5)
    lp, lt = _labels(3)
    cls = collection_for_domain("classification", average="macro", num_classes=3)(lp, lt)
    np.testing.assert_allclose(float(cls["precision"]), skm.precision_score(lt, lp, average="macro"), rtol=1e-5)
    np.testing.assert_allclose(float(cls["cohen_kappa"]), skm.cohen_kappa_score(lt, lp), rtol=1e-5)


def test_unknown_domain_lists_suites() -> None:
    with pytest.raises(CalibraxError, match="Did you mean 'regression'"):
        collection_for_domain("regresion")
    with pytest.raises(CalibraxError, match="has metrics but no suite"):
        collection_for_domain("audio")


def test_threshold_metric_pass_fail_and_bounds() -> None:
    p, t = _labels(4)
    acc = skm.accuracy_score(t, p)
    passing = ThresholdMetric("accuracy", min=acc - 0.01)(p, t)
    assert passing.passed and passing.value == pytest.approx(acc, rel=1e-6)
    failing = ThresholdMetric("accuracy", min=0.1, max=acc - 0.01)(p, t)
    assert not failing.passed and "FAIL: must be >= 0.1 and <= " in str(failing)
    assert not ThresholdMetric("mse", max=1.0)(np.array([np.nan]), np.array([0.0])).passed  # NaN never passes
    with pytest.raises(CalibraxError, match="min, max or both"):
        ThresholdMetric("mse")
    with pytest.raises(CalibraxError, match="must not exceed max"):
        ThresholdMetric("mse", min=2.0, max=1.0)
    assert composition.ThresholdResult is type(passing)
