"""Bootstrap CI, per-class values, the best-value tracker and running extrema."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as skm

from calibrax.core import CalibraxError, NotFoundError
from calibrax.metrics import MetricInputError
from calibrax.metrics.wrappers import BestValueTracker, RunningExtrema, bootstrap_ci, per_class


def _reg(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.normal(size=n)
    return (t + 0.5 * rng.normal(size=n)).astype(np.float32), t.astype(np.float32)


def _numpy_bootstrap(p: np.ndarray, t: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.array([np.mean((p[i].astype(np.float64) - t[i]) ** 2) for i in idx])


def test_bootstrap_ci_matches_a_numpy_percentile_bootstrap_on_the_same_resamples() -> None:
    p, t = _reg()
    r = bootstrap_ci("mse", p, t, num_resamples=300, confidence=0.9, seed=3)
    idx = np.asarray(jax.random.randint(jax.random.key(3), (300, len(t)), 0, len(t)))
    boot = _numpy_bootstrap(p, t, idx)
    np.testing.assert_allclose(float(r.value), skm.mean_squared_error(t, p), rtol=1e-5)
    np.testing.assert_allclose([float(r.low), float(r.high)], np.percentile(boot, [5, 95]), rtol=1e-5)
    np.testing.assert_allclose(float(r.standard_error), boot.std(), rtol=1e-4)
    assert float(r.low) < float(r.value) < float(r.high)


def test_bootstrap_is_seeded_and_resamples_weights_with_their_rows() -> None:
    p, t = _reg(seed=1)
    w = np.random.default_rng(2).uniform(0.1, 2.0, len(t))
    a = bootstrap_ci("mae", p, t, weights=w, num_resamples=200, seed=7)
    b = bootstrap_ci("mae", p, t, weights=w, num_resamples=200, seed=7)
    c = bootstrap_ci("mae", p, t, weights=w, num_resamples=200, seed=8)
    assert (float(a.low), float(a.high)) == (float(b.low), float(b.high)) != (float(c.low), float(c.high))
    idx = np.asarray(jax.random.randint(jax.random.key(7), (200, len(t)), 0, len(t)))
    boot = [np.average(np.abs(p[i] - t[i]), weights=w[i]) for i in idx]
    np.testing.assert_allclose([float(a.low), float(a.high)], np.percentile(boot, [2.5, 97.5]), rtol=1e-5)


def test_bootstrap_of_a_callable_and_of_a_classification_metric() -> None:
    rng = np.random.default_rng(4)
    t = rng.integers(0, 3, 90).astype(np.int32)
    p = np.where(rng.random(90) < 0.7, t, rng.integers(0, 3, 90)).astype(np.int32)
    r = bootstrap_ci("f1", p, t, average="macro", num_classes=3, num_resamples=100)
    np.testing.assert_allclose(float(r.value), skm.f1_score(t, p, average="macro"), rtol=1e-5)
    own = bootstrap_ci(lambda a, b: jnp.mean(a == b), p, t, num_resamples=100)
    np.testing.assert_allclose(float(own.value), skm.accuracy_score(t, p), rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros(5), np.zeros(4)), {}, r"same number of rows .* \(5,\), \(4,\)"),
        ((np.zeros(1), np.zeros(1)), {}, "at least 2 rows"),
        ((np.zeros(5), np.zeros(5)), {"confidence": 1.5}, r"confidence must be in \(0, 1\)"),
        ((np.zeros(5), np.zeros(5)), {"weights": np.ones(3)}, "one value per row"),
    ],
)
def test_bootstrap_bad_inputs(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        bootstrap_ci("mse", *args, **kwargs)


def test_bootstrap_unknown_metric_names_close_matches() -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'mse'"):
        bootstrap_ci("msee", np.zeros(5), np.zeros(5))


def test_per_class_labels_match_scikit_learn_average_none() -> None:
    rng = np.random.default_rng(5)
    t = rng.integers(0, 4, 120).astype(np.int32)
    p = np.where(rng.random(120) < 0.6, t, rng.integers(0, 4, 120)).astype(np.int32)
    for name, ref in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        np.testing.assert_allclose(np.asarray(per_class(name, p, t)), ref(t, p, average=None), rtol=1e-5)
    jitted = jax.jit(lambda a, b: per_class("f1", a, b, num_classes=4))(p, t)
    np.testing.assert_allclose(np.asarray(jitted), skm.f1_score(t, p, average=None), rtol=1e-5)


def test_per_class_scores_are_one_vs_rest_columns() -> None:
    rng = np.random.default_rng(6)
    t = rng.integers(0, 3, 100).astype(np.int32)
    s = (rng.normal(size=(100, 3)) + 1.2 * np.eye(3)[t]).astype(np.float32)
    expected = [skm.roc_auc_score(t == c, s[:, c]) for c in range(3)]
    np.testing.assert_allclose(np.asarray(per_class("roc_auc", s, t)), expected, rtol=1e-5)
    with pytest.raises(MetricInputError, match=r"per-class scores of shape \(n, K\)"):
        per_class("roc_auc", s[:, 0], t)
    with pytest.raises(MetricInputError, match="same shape"):
        per_class("recall", t[:50], t)


def test_best_value_tracker_is_direction_aware_and_keeps_the_step() -> None:
    losses = [0.9, 0.5, 0.7, 0.5, float("nan"), 0.6]
    lower = BestValueTracker("lower")
    s = lower.init()
    for step, v in enumerate(losses):
        s = lower.update(s, v, step=10 * step)
    assert (float(s.value), int(s.step), int(s.updates)) == (0.5, 10, 6)  # ties keep the earlier step; NaN ignored
    higher = BestValueTracker("accuracy")  # a metric name gives its declared direction
    h = higher.update(higher.update(higher.init(), 0.8), 0.7)
    assert (round(float(h.value), 3), int(h.step)) == (0.8, 0)

    def scan(state, v):  # type: ignore[no-untyped-def]
        return lower.update(state, v), None

    final, _ = jax.jit(lambda xs: jax.lax.scan(scan, lower.init(), xs))(jnp.array([3.0, 1.0, 2.0]))
    assert lower.compute(final) == (1.0, 1)


def test_best_value_tracker_refuses_info_and_non_scalars() -> None:
    with pytest.raises(CalibraxError, match="needs a direction"):
        BestValueTracker("mean_bias_error")
    with pytest.raises(NotFoundError):
        BestValueTracker("sideways")
    t = BestValueTracker("higher")
    with pytest.raises(MetricInputError, match="one scalar value"):
        t.update(t.init(), jnp.ones(2))


def test_running_extrema_over_batches_with_merge_and_nan() -> None:
    r = RunningExtrema()
    a = r.update(r.update(r.init(), jnp.array([[3.0, -1.0], [2.0, jnp.nan]])), 5.0)
    b = r.update(r.init(), jnp.array([7.0, 0.0]))
    assert tuple(float(v) for v in r.compute(a)) == (-1.0, 5.0) and int(a.seen) == 4
    merged = r.merge(a, b)
    assert tuple(float(v) for v in r.compute(merged)) == (-1.0, 7.0) and int(merged.seen) == 6
    assert tuple(float(v) for v in r.compute(r.init())) == (float("inf"), float("-inf"))
    jitted = jax.jit(r.update)(r.init(), jnp.arange(5.0))
    assert tuple(float(v) for v in r.compute(jitted)) == (0.0, 4.0)
