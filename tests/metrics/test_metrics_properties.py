"""Every declared property of every metric holds on random inputs (hypothesis).

Inputs are the reference tests' draws (``metric_cases.SEEDS``), so the programs those tests
compiled serve here too. A metric that declares a property is checked for it; a property that
fails is either removed from the declaration or the metric fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metric_cases import CASES, SEEDS, jitted

from calibrax import metrics
from calibrax.metrics import MetricEntry, Signature

SETTINGS = settings(max_examples=2, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
SEED = st.sampled_from(SEEDS)  # the reference tests' draws: their compiled programs serve here too
TOL = {"rtol": 2e-4, "atol": 2e-5}
_SAMPLE_SETS = {Signature.SAMPLES, Signature.GENERATED_REAL}  # two sets of rows, of any sizes


def _entries(prop: str) -> list[str]:
    return sorted(e.name for e in metrics.list_metrics(**{prop: True}) if e.name in CASES)


def _draw(name: str, seed: int) -> tuple[list[Any], dict[str, Any]]:
    """The row's inputs in the metric's declared order, floats as float32, and its options."""
    named, kwargs = CASES[name].draw(np.random.default_rng(seed))
    inputs = metrics.get(name).order_inputs(named)
    cast = [np.asarray(x, np.float32) if np.asarray(x).dtype.kind == "f" else np.asarray(x) for x in inputs]
    return cast, {**kwargs, **CASES[name].extra}


def _value(name: str, inputs: list[Any], kwargs: dict[str, Any]) -> np.ndarray:
    """The metric's value, through the jitted function the reference tests share (float32 rows)."""
    return np.asarray(jitted(name, kwargs)(*inputs))


def _is_float(x: Any) -> bool:
    return np.asarray(x).dtype.kind == "f"


# ----------------------------------------------------------------------------- symmetry, sign
# (jit against eager: test_metrics_reference.py, on every row with a reference)
@pytest.mark.parametrize("name", _entries("symmetric"))
@SETTINGS
@given(seed=SEED)
def test_symmetric(name: str, seed: int) -> None:
    x, kw = _draw(name, seed)
    if metrics.get(name).signature in _SAMPLE_SETS and x[0].shape != x[1].shape:
        x[1] = np.resize(x[1], x[0].shape)  # symmetric swap needs both sides of one kind
    swapped = [x[1], x[0], *x[2:]]
    np.testing.assert_allclose(_value(name, swapped, kw), _value(name, x, kw), **TOL)


@pytest.mark.parametrize("name", _entries("non_negative"))
@SETTINGS
@given(seed=SEED)
def test_non_negative(name: str, seed: int) -> None:
    x, kw = _draw(name, seed)
    assert _value(name, x, kw) >= -1e-6


# ----------------------------------------------------------------------------- true metrics
@pytest.mark.parametrize("name", _entries("true_metric"))
@SETTINGS
@given(seed=SEED)
def test_true_metric_axioms(name: str, seed: int) -> None:
    (a, b, *rest), kw = _draw(name, seed)
    (c, *_), _ = _draw(name, SEEDS[(SEEDS.index(seed) + 1) % len(SEEDS)])
    entry = metrics.get(name)
    if entry.signature == Signature.PAIR and c.shape != a.shape:
        c = np.resize(c, a.shape)
    d = lambda u, v: float(_value(name, [u, v, *rest], kw))  # noqa: E731
    assert abs(d(a, a)) <= 1e-4, "identity: d(a, a) must be 0"
    assert d(a, b) > 0 or np.array_equal(a, b), "indiscernibles: d(a, b) > 0 for a != b"
    assert d(a, c) <= d(a, b) + d(b, c) + 1e-4 * (1 + d(a, c)), "triangle inequality"


# ----------------------------------------------------------------------------- invariances
def _rotation(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def _floats(entry: MetricEntry, x: list[Any]) -> list[int]:
    skip = {1} if entry.signature == Signature.GAUSSIAN else set()  # a variance is not a location
    return [i for i, v in enumerate(x) if _is_float(v) and i not in skip]


def _transform(entry: MetricEntry, kind: str, x: list[Any], kw: dict[str, Any],
               rng: np.random.Generator) -> tuple[list[Any], dict[str, Any]]:
    out, kw = list(x), dict(kw)
    if kind == "translation":
        c = np.float32(rng.uniform(-2, 2))
        for i in _floats(entry, x):
            out[i] = x[i] + c
    elif kind == "scale":
        s = np.float32(rng.uniform(0.3, 3.0))
        for i in _floats(entry, x) if entry.signature != Signature.GAUSSIAN else []:
            out[i] = x[i] * s
    elif kind == "rotation":
        dim = x[0].shape[-1]
        q = _rotation(rng, dim)
        for i in _floats(entry, x):
            out[i] = x[i] @ q
    elif kind == "permutation":
        joint = entry.signature not in _SAMPLE_SETS
        perm = rng.permutation(x[0].shape[0])
        for i, v in enumerate(x):
            out[i] = v[perm] if joint else v[rng.permutation(v.shape[0])]
        for key in ("weights", "mask"):  # per-sample options move with their samples
            if key in kw:
                kw[key] = np.asarray(kw[key])[perm]
    elif kind == "relabeling":
        which = {Signature.GROUPS: [2], Signature.FEATURES_LABELS: [1],
                 Signature.EMBEDDINGS_LABELS: [1]}.get(entry.signature, [0, 1])
        for i in which:
            k = kw.get("num_clusters") or kw.get("num_classes") or kw.get("num_groups") or int(x[i].max()) + 1
            out[i] = rng.permutation(k).astype(x[i].dtype)[x[i]]
    return out, kw


INVARIANCE_CASES = sorted(
    (e.name, kind) for e in metrics.list_metrics() if e.name in CASES for kind in e.invariances
)


@pytest.mark.parametrize(("name", "kind"), INVARIANCE_CASES)
@SETTINGS
@given(seed=SEED)
def test_declared_invariance(name: str, kind: str, seed: int) -> None:
    entry = metrics.get(name)
    x, kw = _draw(name, seed)
    moved, moved_kw = _transform(entry, kind, x, kw, np.random.default_rng(seed + 17))
    np.testing.assert_allclose(_value(name, moved, moved_kw), _value(name, x, kw), rtol=1e-3, atol=1e-4,
                               err_msg=f"{name} is not invariant under {kind}")


# ----------------------------------------------------------------------------- gradients
@cache
def _grad(name: str, kw_names: tuple[str, ...]) -> Callable[..., Any]:
    fn = metrics.get(name).function

    def loss(first: Any, rest: list[Any], kw: dict[str, Any]) -> Any:
        return fn(first, *rest, **kw)

    def run(first: Any, rest: list[Any], kw: dict[str, Any]) -> Any:
        fixed = {k: v for k, v in kw.items() if not isinstance(v, np.ndarray)}  # options stay static
        traced = {k: v for k, v in kw.items() if isinstance(v, np.ndarray)}
        return _grad_jit(loss, tuple(sorted(fixed.items())))(first, rest, traced)

    return run


@cache
def _grad_jit(loss: Callable[..., Any], fixed: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    return jax.jit(jax.grad(lambda first, rest, kw: loss(first, rest, {**kw, **dict(fixed)})))


@pytest.mark.parametrize("name", _entries("differentiable"))
@SETTINGS
@given(seed=SEED)
def test_gradients_finite_and_non_zero(name: str, seed: int) -> None:
    x, kw = _draw(name, seed)
    grad = np.asarray(_grad(name, tuple(sorted(kw)))(jnp.asarray(x[0]), x[1:], kw))
    assert np.all(np.isfinite(grad)), f"{name}: non-finite gradient"
    assert np.any(grad != 0), f"{name}: gradient is zero everywhere"


# ----------------------------------------------------------------------------- proper scoring rules
def _categorical(name: str, rng: np.random.Generator) -> tuple[float, float]:
    k = 4
    q, p = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
    fn = metrics.get(name).function

    def expected(f: np.ndarray) -> float:
        rows = np.tile(f.astype(np.float32), (k, 1))
        per_outcome = [float(fn(rows[j : j + 1], np.array([j]))) for j in range(k)]
        return float(np.dot(q, per_outcome))

    return expected(q), expected(p)


def _support(rng: np.random.Generator, m: int = 6) -> tuple[np.ndarray, np.ndarray]:
    return np.sort(rng.normal(size=m)).astype(np.float32), rng.dirichlet(np.ones(m))


def _quantile(values: np.ndarray, w: np.ndarray, level: float) -> float:
    return float(values[np.searchsorted(np.cumsum(w), level)])


def _quantile_loss(rng: np.random.Generator) -> tuple[float, float]:
    y, w = _support(rng)
    alpha = 0.8
    fn = metrics.get("quantile_loss").function
    e = lambda x: sum(wj * float(fn(np.array([x], np.float32), np.array([yj]), alpha=alpha)) for yj, wj in zip(y, w, strict=True))  # noqa: E731
    return e(_quantile(y, w, alpha)), e(float(rng.normal()))


def _ensemble_score(name: str, rng: np.random.Generator, dims: int) -> tuple[float, float]:
    fn = metrics.get(name).function
    truth = rng.normal(size=(5, dims)).astype(np.float32)  # the true distribution: uniform on these points
    other = truth + rng.normal(scale=0.7, size=truth.shape).astype(np.float32)

    def e(ens: np.ndarray) -> float:
        if dims == 1:
            return float(np.mean([fn(ens[None, :, 0], y[None]) for y in truth[:, 0]]))
        return float(np.mean([fn(ens[None], y[None]) for y in truth]))

    return e(truth), e(other)


def _interval(rng: np.random.Generator) -> tuple[float, float]:
    y, w = _support(rng)
    alpha = 0.4
    fn = metrics.get("interval_score").function

    def e(lo: float, hi: float) -> float:
        return sum(wj * float(fn(np.array([lo], np.float32), np.array([hi], np.float32), np.array([yj]), alpha=alpha))
                   for yj, wj in zip(y, w, strict=True))

    true = (_quantile(y, w, alpha / 2), _quantile(y, w, 1 - alpha / 2))
    return e(*true), e(true[0] + float(rng.normal(scale=0.5)), true[1] + float(rng.normal(scale=0.5)))


def _gaussian(rng: np.random.Generator) -> tuple[float, float]:
    mu, sd = float(rng.normal()), float(rng.uniform(0.5, 2.0))
    nodes, weights = np.polynomial.hermite_e.hermegauss(30)
    ys, ws = (mu + sd * nodes).astype(np.float32), weights / weights.sum()
    fn = metrics.get("gaussian_nll").function
    n = len(ys)

    def e(m: float, v: float) -> float:
        vals = fn(np.full(n, m, np.float32), np.full(n, v, np.float32), ys, eps=1e-12) * n  # mean -> sum
        per = np.asarray(jax.vmap(lambda y: fn(jnp.array([m]), jnp.array([v]), y[None], eps=1e-12))(ys))
        assert np.isclose(float(per.sum()), float(vals), rtol=1e-4)
        return float(np.dot(ws, per))

    return e(mu, sd**2), e(mu + float(rng.normal(scale=0.5)), sd**2 * float(rng.uniform(0.3, 3.0)))


PROPER: dict[str, Callable[[np.random.Generator], tuple[float, float]]] = {
    "log_loss": partial(_categorical, "log_loss"),
    "brier_score": partial(_categorical, "brier_score"),
    "ranked_probability_score": partial(_categorical, "ranked_probability_score"),
    "quantile_loss": _quantile_loss,
    "crps": partial(_ensemble_score, "crps", dims=1),
    "energy_score": partial(_ensemble_score, "energy_score", dims=2),
    "interval_score": _interval,
    "gaussian_nll": _gaussian,
}


@pytest.mark.parametrize("name", sorted(e.name for e in metrics.list_metrics(proper_scoring_rule=True)))
@settings(max_examples=2, deadline=None, derandomize=True)
@given(seed=SEED)
def test_proper_scoring_rule(name: str, seed: int) -> None:
    assert name in PROPER, f"{name} declares proper_scoring_rule but has no propriety check here"
    truthful, other = PROPER[name](np.random.default_rng(seed))
    assert truthful <= other + 1e-5, f"{name}: forecasting the truth scored {truthful} > {other}"
