"""Tier 1: stateful FID, KID, IS and precision/recall against float64 NumPy/SciPy references,
streaming and merging, the frozen extractor, the weights loader, and every error they raise."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from flax import nnx
from scipy.spatial.distance import cdist
from scipy.stats import entropy

from calibrax import metrics
from calibrax.metrics import MetricInputError, MetricWeightsError, load_weights, save_weights
from calibrax.metrics.stateful import (
    FeatureBank,
    FrechetInceptionDistance,
    FrozenExtractor,
    InceptionScore,
    KernelInceptionDistance,
    Moments,
    PrecisionRecall,
)

# ---------------------------------------------------------------- independent float64 references


def ref_fid(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    c1, c2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2.0 * np.real(root)))


def ref_mmd2(x: np.ndarray, y: np.ndarray, degree: int, gamma: float, coef0: float) -> float:
    m = len(x)
    k = lambda a, b: (gamma * a @ b.T + coef0) ** degree  # noqa: E731
    off = ~np.eye(m, dtype=bool)
    return float(k(x, x)[off].mean() + k(y, y)[off].mean() - 2.0 * k(x, y).mean())


def ref_kid(x: np.ndarray, y: np.ndarray, subsets: int, size: int, degree: int = 3, gamma: float | None = None,
            coef0: float = 1.0, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)  # the documented draw: real then generated indices, per subset
    g = 1.0 / x.shape[1] if gamma is None else gamma
    scores = []
    for _ in range(subsets):
        i = rng.choice(len(x), size, replace=False)
        j = rng.choice(len(y), size, replace=False)
        scores.append(ref_mmd2(x[i], y[j], degree, g, coef0))
    return float(np.mean(scores)), float(np.std(scores))


def ref_is(p: np.ndarray, splits: int) -> tuple[float, float]:
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        marginal = part.mean(axis=0)
        scores.append(np.exp(np.mean([entropy(row, marginal) for row in part])))
    return float(np.mean(scores)), float(np.std(scores))


def ref_pr(real: np.ndarray, gen: np.ndarray, k: int) -> tuple[float, float]:
    def coverage(support: np.ndarray, queries: np.ndarray) -> float:
        radius = np.sort(cdist(support, support), axis=1)[:, k]
        return float(np.mean(np.any(cdist(queries, support) <= radius[None, :], axis=1)))

    return coverage(real, gen), coverage(gen, real)


def correlated(rng: np.random.Generator, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    """Gaussian features with a random (so non-commuting between draws) covariance."""
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + shift


# ---------------------------------------------------------------- values against the references


@pytest.mark.parametrize("seed", range(3))
def test_fid_matches_scipy_sqrtm_on_non_commuting_covariances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = correlated(rng, 80, 6), correlated(rng, 70, 6, shift=0.5)
    c1, c2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    assert not np.allclose(c1 @ c2, c2 @ c1, atol=1e-3)
    value = FrechetInceptionDistance().update(x, real=True).update(y, real=False).compute()
    assert value == pytest.approx(ref_fid(x, y), rel=1e-8)


@pytest.mark.parametrize("seed", range(2))
def test_kid_matches_reference_mean_and_std(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = correlated(rng, 40, 5), correlated(rng, 35, 5, shift=0.3)
    kid = KernelInceptionDistance(subsets=6, subset_size=20, seed=seed)
    got = kid.update(x, real=True).update(y, real=False).compute()
    mean, std = ref_kid(x, y, 6, 20, seed=seed)
    assert got.mean == pytest.approx(mean, rel=1e-9) and got.std == pytest.approx(std, rel=1e-9)
    custom = KernelInceptionDistance(subsets=2, subset_size=10, degree=2, gamma=0.5, coef0=0.0, seed=3)
    got = custom.update(x, real=True).update(y, real=False).compute()
    assert got.mean == pytest.approx(ref_kid(x, y, 2, 10, degree=2, gamma=0.5, coef0=0.0, seed=3)[0], rel=1e-9)


@pytest.mark.parametrize("splits", [1, 3, 4])
def test_inception_score_matches_reference(splits: int) -> None:
    rng = np.random.default_rng(splits)
    logits = rng.normal(size=(29, 7)) * 2.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = InceptionScore(splits=splits).update(probs[:10]).update(probs[10:]).compute()
    mean, std = ref_is(probs, splits)
    assert got.mean == pytest.approx(mean, rel=1e-9) and got.std == pytest.approx(std, rel=1e-9, abs=1e-12)
    from_logits = InceptionScore(splits=splits, from_logits=True).update(logits).compute()
    assert from_logits.mean == pytest.approx(mean, rel=1e-9)


@pytest.mark.parametrize(("k", "block_size"), [(1, 1024), (3, 7), (5, 16)])
def test_precision_recall_match_reference_in_any_block_size(k: int, block_size: int) -> None:
    rng = np.random.default_rng(k)
    real, gen = rng.normal(size=(50, 4)), rng.normal(size=(45, 4)) * 0.8 + 0.9
    got = PrecisionRecall(k=k, block_size=block_size).update(real, real=True).update(gen, real=False).compute()
    precision, recall = ref_pr(real, gen, k)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0
    assert (got.precision, got.recall) == pytest.approx((precision, recall), abs=1e-12)


def _backbone() -> nnx.Module:
    rngs = nnx.Rngs(0)
    return nnx.Sequential(nnx.Linear(6, 8, rngs=rngs), nnx.tanh, nnx.Linear(8, 5, rngs=rngs))


def test_every_metric_through_a_random_nnx_backbone_matches_references_on_its_features() -> None:
    rng = np.random.default_rng(0)
    module = _backbone()
    x, y = rng.normal(size=(60, 6)).astype(np.float32), (rng.normal(size=(30, 6)) + 0.5).astype(np.float32)
    fx, fy = (np.asarray(module(jnp.asarray(a)), np.float64) for a in (x, y))
    fid = FrechetInceptionDistance(module).update(x[:30], real=True).update(x[30:], real=True).update(y, real=False)
    assert fid.compute() == pytest.approx(ref_fid(fx, fy), rel=1e-4)
    kid = KernelInceptionDistance(module, subsets=3, subset_size=30)
    kid.update(x[:30], real=True).update(x[30:], real=True).update(y, real=False)
    assert kid.compute().mean == pytest.approx(ref_kid(fx, fy, 3, 30)[0], rel=1e-4)
    pr = PrecisionRecall(module, k=3).update(x[:30], real=True).update(x[30:], real=True).update(y, real=False)
    assert tuple(pr.compute()) == pytest.approx(ref_pr(fx, fy, 3), abs=1e-12)
    classifier = nnx.Sequential(module, nnx.softmax)
    score = InceptionScore(classifier, splits=2).update(x[:30]).update(x[30:]).compute()
    probs = np.exp(fx) / np.exp(fx).sum(axis=1, keepdims=True)
    assert score.mean == pytest.approx(ref_is(probs, 2)[0], rel=1e-4)


# ---------------------------------------------------------------- streaming, merging, reset


def _fill(metric: Any, x: np.ndarray, y: np.ndarray) -> Any:
    return metric.update(y) if isinstance(metric, InceptionScore) else metric.update(x, real=True).update(y, real=False)


FACTORIES: dict[str, Callable[[], Any]] = {
    "fid": FrechetInceptionDistance,
    "kid": lambda: KernelInceptionDistance(subsets=4, subset_size=15, seed=1),
    "is": lambda: InceptionScore(splits=3, from_logits=True),
    "pr": lambda: PrecisionRecall(k=2, block_size=8),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_batched_updates_and_merged_shards_equal_one_pass(name: str) -> None:
    rng = np.random.default_rng(5)
    x, y = correlated(rng, 36, 4), correlated(rng, 33, 4, shift=1.0)
    whole = _fill(FACTORIES[name](), x, y).compute()
    a, b = FACTORIES[name](), FACTORIES[name]()
    for lo, hi in ((0, 7), (7, 20)):
        _fill(a, x[lo:hi], y[lo:hi])
    _fill(b, x[20:], y[20:])
    merged = a.merge(b).compute()
    assert np.allclose(np.asarray(merged, float), np.asarray(whole, float), rtol=1e-10, atol=1e-12)
    assert a.merge(FACTORIES[name]()).compute() == merged  # merging an empty state changes nothing


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_reset_empties_the_state(name: str) -> None:
    rng = np.random.default_rng(2)
    x, y = correlated(rng, 30, 3), correlated(rng, 30, 3, shift=2.0)
    metric = _fill(FACTORIES[name](), x * 5.0, y - 3.0)
    metric.reset()
    with pytest.raises(MetricInputError, match="needs at least"):
        metric.compute()
    assert _fill(metric, x, y).compute() == _fill(FACTORIES[name](), x, y).compute()


def test_fid_is_zero_for_one_set_small_within_a_distribution_and_large_between() -> None:
    rng = np.random.default_rng(11)
    x = correlated(rng, 400, 4)
    assert FrechetInceptionDistance().update(x, real=True).update(x, real=False).compute() == pytest.approx(0, abs=1e-9)
    cov = rng.normal(size=(4, 4))
    same = metrics.compute("fid", rng.normal(size=(400, 4)) @ cov, rng.normal(size=(400, 4)) @ cov)
    other = metrics.compute("fid", rng.normal(size=(400, 4)) @ cov, rng.normal(size=(400, 4)) @ cov * 1.5 + 1.0)
    assert same < 0.5 and other > 20 * same


def test_one_shot_registry_entries_equal_the_classes() -> None:
    rng = np.random.default_rng(4)
    x, y = correlated(rng, 30, 3), correlated(rng, 25, 3, shift=0.5)
    tier1 = {e.name: e for e in metrics.list_metrics(tier=1)}
    assert set(tier1) == {"fid", "kernel_inception_distance", "split_inception_score", "improved_precision",
                          "improved_recall"}
    for entry in tier1.values():
        module, cls = entry.class_path.split(":")
        assert callable(getattr(importlib.import_module(module), cls)) and not entry.jit_compatible
        assert entry.to_dict()["class_path"] == entry.class_path and entry.domain == "generative"
    assert metrics.compute("fid", x, y, batch_size=7) == pytest.approx(ref_fid(x, y), rel=1e-8)
    assert metrics.compute("fid", x, y) == pytest.approx(metrics.compute("fid", y, x), rel=1e-9)  # symmetric
    kid = metrics.compute("kernel_inception_distance", y, x, subsets=3, subset_size=20, seed=2)  # (generated, real)
    assert kid == pytest.approx(ref_kid(x, y, 3, 20, seed=2)[0], rel=1e-9)
    p, r = ref_pr(x, y, 3)  # x real, y generated
    assert metrics.compute("improved_precision", y, x, batch_size=4) == pytest.approx(p)
    assert metrics.compute("improved_recall", y, x) == pytest.approx(r)
    probs = np.abs(x) / np.abs(x).sum(axis=1, keepdims=True)
    assert metrics.compute("split_inception_score", probs, splits=2, batch_size=9) == pytest.approx(ref_is(probs, 2)[0])


# ---------------------------------------------------------------- the frozen extractor


def test_module_extractor_is_frozen_in_eval_mode_and_a_copy() -> None:
    rngs = nnx.Rngs(0)
    module = nnx.Sequential(nnx.Linear(3, 4, rngs=rngs), nnx.Dropout(0.5, rngs=rngs))
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    extractor = FrozenExtractor(module)
    first = extractor(x)
    np.testing.assert_array_equal(first, extractor(x))  # dropout is off
    assert FrechetInceptionDistance(module).update(x, real=True).update(x, real=False).compute() == pytest.approx(0.0)
    module.layers[0].kernel[...] = jnp.zeros((3, 4))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first, extractor(x))  # later edits do not reach the copy
    np.testing.assert_allclose(FrozenExtractor(_backbone(), jit=False)(x[:, :6].repeat(2, 1)),
                               FrozenExtractor(_backbone())(x[:, :6].repeat(2, 1)), rtol=1e-5, atol=1e-6)


def test_extractor_flattens_trailing_axes_and_accepts_plain_callables() -> None:
    out = FrozenExtractor(lambda b: b.reshape(len(b), 2, 3))(np.ones((4, 6), np.int32))
    assert out.shape == (4, 6)
    value = metrics.compute("fid", np.ones((5, 1, 2)), np.ones((5, 1, 2)) * np.arange(5)[:, None, None],
                            extractor=lambda b: np.asarray(b))
    assert value > 0


@pytest.mark.parametrize("fmt", [".npz", ".msgpack"])
def test_extractor_weights_load_from_a_local_file(tmp_path: Path, fmt: str) -> None:
    trained = _backbone()
    path = save_weights(trained, tmp_path / f"sub/backbone{fmt}")
    restored = load_weights(nnx.Sequential(nnx.Linear(6, 8, rngs=nnx.Rngs(9)), nnx.tanh,
                                           nnx.Linear(8, 5, rngs=nnx.Rngs(9))), path)
    x = np.random.default_rng(0).normal(size=(10, 6)).astype(np.float32)
    np.testing.assert_array_equal(FrozenExtractor(restored)(x), FrozenExtractor(trained)(x))


# ---------------------------------------------------------------- the weights loader's errors


def _saved(tmp_path: Path, name: str = "w.npz") -> Path:
    return save_weights(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), tmp_path / name)


def _written(path: Path, raw: bytes = b"", **arrays: np.ndarray) -> Path:
    if arrays:
        np.savez(path, **arrays)  # type: ignore[arg-type]
    else:
        path.write_bytes(raw)
    return path


def test_wrong_shape_names_the_parameter_and_both_shapes_and_changes_nothing(tmp_path: Path) -> None:
    target = nnx.Sequential(nnx.Linear(3, 5, rngs=nnx.Rngs(1)))
    path = save_weights(nnx.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0))), tmp_path / "w.msgpack")
    before = np.asarray(target.layers[0].kernel[...])  # type: ignore[attr-defined]
    with pytest.raises(MetricWeightsError, match=r"Parameter 'layers/0/bias' .*expected shape \(5,\), found \(4,\)"):
        load_weights(target, path)
    np.testing.assert_array_equal(before, target.layers[0].kernel[...])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("make_file", "module", "match"),
    [
        (lambda p: _saved(p), nnx.Linear(3, 4, param_dtype=jnp.bfloat16, rngs=nnx.Rngs(0)),
         r"Parameter 'bias' .*expected dtype bfloat16, found float32"),
        (lambda p: _saved(p), nnx.Linear(3, 4, use_bias=False, rngs=nnx.Rngs(0)), r"unexpected parameters \['bias'\]"),
        (lambda p: _saved(p), nnx.LayerNorm(4, rngs=nnx.Rngs(0)), r"missing parameters \['scale'\]"),
        (lambda p: p / "absent.npz", nnx.Linear(3, 4, rngs=nnx.Rngs(0)), "No weights file .*never downloads"),
        (lambda p: _saved(p, "w.pt"), nnx.Linear(3, 4, rngs=nnx.Rngs(0)), r"suffix '.pt'; use one of"),
        (lambda p: _written(p / "bad.npz", b"not a zip"), nnx.Linear(3, 4, rngs=nnx.Rngs(0)),
         "cannot be read as .npz"),
        (lambda p: _written(p / "bad.msgpack", b"\x01"), nnx.Linear(3, 4, rngs=nnx.Rngs(0)),
         "cannot be read as .msgpack"),
        (lambda p: _written(p / "new.npz", __calibrax_weights_version__=np.asarray(99)),
         nnx.Linear(3, 4, rngs=nnx.Rngs(0)), "format version 99; .* Upgrade calibrax"),
    ],
)
def test_loader_refuses_bad_files_with_a_clear_message(tmp_path: Path, make_file: Callable[[Path], Path],
                                                       module: nnx.Module, match: str) -> None:
    with pytest.raises(MetricWeightsError, match=match):
        load_weights(module, make_file(tmp_path))


def test_loader_and_saver_need_an_nnx_module(tmp_path: Path) -> None:
    with pytest.raises(MetricWeightsError, match="must be a flax.nnx.Module; got function"):
        save_weights(lambda x: x, tmp_path / "w.npz")  # type: ignore[arg-type]
    with pytest.raises(MetricWeightsError, match="suffix"):
        save_weights(nnx.Linear(1, 1, rngs=nnx.Rngs(0)), tmp_path / "w.pkl")


def test_plain_npz_keyed_by_paths_loads(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", kernel=np.full((2, 3), 2.0, np.float32), bias=np.ones(3, np.float32))
    layer = load_weights(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), tmp_path / "plain.npz")
    np.testing.assert_array_equal(layer(jnp.ones((1, 2))), np.full((1, 3), 5.0))


# ---------------------------------------------------------------- every user-facing error


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: FrozenExtractor(3), "extractor must be None, a callable"),  # type: ignore[arg-type]
        (lambda: FrozenExtractor(lambda b: b.sum(axis=1))(np.ones((3, 2))), r"shape \(n, d\); got shape \(3,\)"),
        (lambda: FrozenExtractor()(np.array([["a"], ["b"]])), "features must be numbers"),
        (lambda: FrozenExtractor()(np.array([[1.0], [np.nan]])), "non-finite values .* for 1 of 2 inputs"),
        (lambda: metrics.compute("fid", np.ones((4, 2)), np.ones((4, 2)), batch_size=0), "batch_size must be"),
        (lambda: FrechetInceptionDistance().update(np.ones((3, 2)), real=1), "real must be True"),  # type: ignore[arg-type]
        (lambda: FrechetInceptionDistance().update(np.ones((3, 2)), real=True).update(np.ones((3, 4)), real=True),
         "Features have 4 values per input but the state holds 2"),
        (lambda: FrechetInceptionDistance().update(np.ones((3, 2)), real=True).update(np.ones((3, 4)), real=False)
         .compute(), "Real features have 2 values per input and generated ones 4"),
        (lambda: FrechetInceptionDistance().update(np.ones((1, 2)), real=True).update(np.ones((3, 2)), real=False)
         .compute(), "needs at least 2 real and 2 generated samples; it holds 1 real"),
        (lambda: FrechetInceptionDistance().merge(KernelInceptionDistance()), "Only states of the same metric"),  # type: ignore[arg-type]
        (lambda: KernelInceptionDistance(seed=1).merge(KernelInceptionDistance(seed=2)), "same options"),
        (lambda: FrechetInceptionDistance().update(np.ones((3, 2)), real=True).merge(
            FrechetInceptionDistance().update(np.ones((3, 5)), real=True)), "holds 2"),
        (lambda: PrecisionRecall().update(np.ones((3, 2)), real=True).merge(
            PrecisionRecall().update(np.ones((3, 5)), real=True)), "holds 2"),
        (lambda: KernelInceptionDistance(subsets=0), "subsets must be a positive integer; got 0"),
        (lambda: KernelInceptionDistance(subset_size=1), "subset_size must be at least 2"),
        (lambda: KernelInceptionDistance(degree=True), "degree must be a positive integer"),
        (lambda: KernelInceptionDistance(gamma=-1.0), "gamma must be positive"),
        (lambda: KernelInceptionDistance(subset_size=10).update(np.ones((5, 2)), real=True)
         .update(np.ones((20, 2)), real=False).compute(), "needs at least 10 real"),
        (lambda: InceptionScore(splits=0), "splits must be a positive integer"),
        (lambda: InceptionScore().update(np.full((3, 2), 0.2)), "class probabilities .* from_logits=True"),
        (lambda: InceptionScore(splits=5).update(np.eye(3)).compute(), "at least splits=5 samples; it holds 3"),
        (lambda: PrecisionRecall(k=0), "k must be a positive integer"),
        (lambda: PrecisionRecall(block_size=0), "block_size must be a positive integer"),
        (lambda: PrecisionRecall(k=3).update(np.ones((3, 2)), real=True).update(np.ones((9, 2)), real=False)
         .compute(), "needs at least 4 real"),
        (lambda: Moments().add(np.ones((1, 2))).mean_cov(), "at least 2 samples; got 1"),
        (lambda: FeatureBank().add(np.ones((2, 2))).merge(FeatureBank().add(np.ones((2, 3)))), "holds 2"),
    ],
)
def test_bad_input_says_what_is_wrong(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        call()
