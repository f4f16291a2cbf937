"""Tier 2: the LPIPS-style perceptual distance: its definition against NumPy, its properties,
2AFC training, save/load with shape checks, the registry entry, and every error it raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from calibrax import metrics
from calibrax.metrics import MetricInputError, MetricWeightsError, load_weights, save_weights
from calibrax.metrics.perceptual import (
    LPIPS,
    ConvFeatures,
    PerceptualWeight,
    train_lpips,
    two_afc_loss,
    two_afc_score,
)


def pixels_and_pooled(x: jax.Array) -> list[jax.Array]:
    """A fixed two-layer backbone: the pixels and their 2x2 average."""
    n, h, w, c = x.shape
    return [x, x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))]


def conv_model(seed: int = 0) -> LPIPS:
    return LPIPS(ConvFeatures(3, (4, 6), rngs=nnx.Rngs(seed)), channels=(4, 6))


def images(seed: int, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 8, 8, 3)).astype(np.float32), rng.uniform(size=(n, 8, 8, 3)).astype(np.float32)


def ref_lpips(fx: Sequence[Any], fy: Sequence[Any], weights: Sequence[Any], eps: float = 1e-10) -> np.ndarray:
    total = np.zeros(fx[0].shape[0])
    for a, b, w in zip(fx, fy, weights, strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        na = a / (np.linalg.norm(a, axis=-1, keepdims=True) + eps)
        nb = b / (np.linalg.norm(b, axis=-1, keepdims=True) + eps)
        total += np.einsum("nhwc,c->nhw", (na - nb) ** 2, np.maximum(w, 0)).mean(axis=(1, 2))
    return total


def test_matches_a_numpy_reference_with_learned_weights() -> None:
    model = LPIPS(pixels_and_pooled, channels=(3, 3))
    model.weights[0][...] = jnp.array([0.5, 2.0, 0.0])
    model.weights[1][...] = jnp.array([1.0, 0.25, 3.0])
    x, y = images(0)
    expected = ref_lpips(pixels_and_pooled(jnp.asarray(x)), pixels_and_pooled(jnp.asarray(y)),
                         [np.asarray(w[...]) for w in model.weights])
    np.testing.assert_allclose(np.asarray(model(x, y)), expected, rtol=1e-5)
    conv = conv_model()
    fx, fy = conv.backbone(jnp.asarray(x)), conv.backbone(jnp.asarray(y))
    np.testing.assert_allclose(np.asarray(conv(x, y)), ref_lpips(fx, fy, [np.ones(4), np.ones(6)]), rtol=1e-5)


def test_identity_is_zero_and_distances_are_non_negative_and_symmetric() -> None:
    model = conv_model()
    x, y = images(1, n=6)
    np.testing.assert_array_equal(np.asarray(model(x, x)), np.zeros(6))
    d = np.asarray(model(x, y))
    assert (d > 0).all()
    np.testing.assert_allclose(d, np.asarray(model(y, x)), rtol=1e-6)
    model.weights[0][...] = -jnp.ones(4)  # a negative weight never makes a distance negative
    assert (np.asarray(model(x, y)) >= 0).all()


def triplets(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Observers see noise in channel 0 only and prefer the distortion with less of it; channels 1
    and 2 carry more noise exactly where channel 0 carries less, so uniform weights misrank."""
    ref = rng.uniform(size=(n, 8, 8, 3)).astype(np.float32)
    a0, a1 = rng.uniform(0.02, 0.4, size=(2, n))

    def distort(a: np.ndarray) -> np.ndarray:
        scale = np.stack([a, 0.5 - a, 0.5 - a], axis=-1)[:, None, None, :]
        return (ref + rng.normal(size=ref.shape) * scale).astype(np.float32)

    return ref, distort(a0), distort(a1), (a1 < a0).astype(np.float32)


def test_training_on_2afc_triplets_reduces_the_2afc_error_and_leaves_the_backbone_alone() -> None:
    rng = np.random.default_rng(0)
    train, held_out = triplets(rng, 192), triplets(rng, 192)
    model = LPIPS(pixels_and_pooled, channels=(3, 3))
    error_before = 1.0 - two_afc_score(model, *held_out)
    result = train_lpips(model, *train, steps=30, batch_size=64, learning_rate=0.05, seed=1)
    error_after = 1.0 - two_afc_score(model, *held_out)
    assert error_before > 0.6 and error_after < error_before - 0.4, (error_before, error_after)
    assert len(result.losses) == 30 and np.mean(result.losses[-5:]) < np.mean(result.losses[:5]) and result.scale > 0
    assert all((np.asarray(w[...]) >= 0).all() for w in model.weights)  # projected after each step
    conv = conv_model()
    kernel = np.asarray(conv.backbone.convs[0].kernel[...])  # type: ignore[attr-defined]
    train_lpips(conv, *train, steps=2, batch_size=16)
    np.testing.assert_array_equal(kernel, conv.backbone.convs[0].kernel[...])  # type: ignore[attr-defined]
    assert not np.array_equal(np.asarray(conv.weights[0][...]), np.ones(4))


def test_two_afc_loss_is_binary_cross_entropy_of_the_distance_difference() -> None:
    model = conv_model()
    ref, d0, d1, h = triplets(np.random.default_rng(3), 5)
    diff = np.asarray(model(ref, d0)) - np.asarray(model(ref, d1))
    p = 1.0 / (1.0 + np.exp(-2.0 * diff))
    expected = -np.mean(h * np.log(p) + (1 - h) * np.log(1 - p))
    assert float(two_afc_loss(model, ref, d0, d1, jnp.asarray(h), jnp.log(2.0))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("fmt", [".npz", ".msgpack"])
def test_save_then_load_gives_identical_distances(tmp_path: Path, fmt: str) -> None:
    model = conv_model(seed=0)
    train_lpips(model, *triplets(np.random.default_rng(0), 16), steps=2, batch_size=8)
    x, y = images(2)
    path = save_weights(model, tmp_path / f"lpips{fmt}")
    restored = load_weights(conv_model(seed=7), path)
    np.testing.assert_array_equal(np.asarray(restored(x, y)), np.asarray(model(x, y)))
    heads = save_weights(model, tmp_path / f"heads{fmt}", variables=PerceptualWeight)
    only_heads = load_weights(LPIPS(model.backbone, channels=(4, 6)), heads, variables=PerceptualWeight)
    np.testing.assert_array_equal(np.asarray(only_heads(x, y)), np.asarray(model(x, y)))


def test_loading_weights_of_another_shape_names_the_parameter(tmp_path: Path) -> None:
    path = save_weights(LPIPS(pixels_and_pooled, channels=(3, 3)), tmp_path / "w.npz")
    with pytest.raises(MetricWeightsError, match=r"Parameter 'weights/1' .*expected shape \(4,\), found \(3,\)"):
        load_weights(LPIPS(pixels_and_pooled, channels=(3, 4)), path)


def test_registry_entry_computes_the_mean_distance_jitted_and_differentiably() -> None:
    (entry,) = metrics.list_metrics(tier=2)
    assert entry.name == "lpips" and entry.class_path == "calibrax.metrics.perceptual:LPIPS"
    assert entry.symmetric and entry.non_negative and entry.differentiable and entry.jit_compatible
    model = conv_model()
    x, y = images(4)
    value = metrics.compute("lpips", x, y, model=model)
    assert float(value) == pytest.approx(float(np.mean(np.asarray(model(x, y)))), rel=1e-6)
    jitted = jax.jit(lambda a, b: metrics.compute("lpips", a, b, model=model))(x, y)
    assert float(jitted) == pytest.approx(float(value), rel=1e-5)
    grad = np.asarray(jax.grad(lambda a: metrics.compute("lpips", a, y, model=model))(jnp.asarray(x)))
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def _model() -> LPIPS:
    return LPIPS(pixels_and_pooled, channels=(3, 3))


_X = np.zeros((2, 4, 4, 3), np.float32)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: LPIPS(3, channels=(3,)), "backbone must be an nnx.Module or a callable; got int"),  # type: ignore[arg-type]
        (lambda: LPIPS(pixels_and_pooled, channels=()), "channels must list one positive channel count"),
        (lambda: LPIPS(pixels_and_pooled, channels=(3, 0)), r"got \(3, 0\)"),
        (lambda: _model()(_X, _X[:1]), r"same shape; got \(2, 4, 4, 3\) and \(1, 4, 4, 3\)"),
        (lambda: LPIPS(pixels_and_pooled, channels=(3,))(_X, _X), "list of 1 NHWC feature maps .* got 2 maps"),
        (lambda: LPIPS(cast(Any, lambda x: x), channels=(3,))(_X, _X), r"got an array of shape \(2, 4, 4, 3\)"),
        (lambda: LPIPS(pixels_and_pooled, channels=(3, 5))(_X, _X), r"Feature map 1 of x must be NHWC with 5 channels"),
        (lambda: LPIPS(lambda x: [x[..., 0]], channels=(3,))(_X, _X), r"got shape \(2, 4, 4\)"),
        (lambda: metrics.compute("lpips", _X, _X), "lpips needs model=LPIPS"),
        (lambda: two_afc_score(_model(), _X, _X, _X[:1], np.zeros(2)), "must have one shape"),
        (lambda: two_afc_score(_model(), _X, _X, _X, np.zeros(3)), r"one value per triplet, shape \(2,\); got \(3,\)"),
        (lambda: two_afc_score(_model(), _X, _X, _X, np.array([0.5, 1.5])), r"in \[0, 1\]; got values in \[0.5, 1.5\]"),
        (lambda: train_lpips(_model(), _X, _X, _X, np.zeros(2), steps=0), "steps must be a positive integer"),
        (lambda: train_lpips(_model(), _X, _X, _X, np.zeros(2), batch_size=2.0), "batch_size must be"),  # type: ignore[arg-type]
        (lambda: train_lpips(_model(), _X, _X, _X, np.zeros(2), learning_rate=0.0), "learning_rate must be positive"),
        (lambda: train_lpips(_model(), _X[:0], _X[:0], _X[:0], np.zeros(0)), "at least one triplet"),
    ],
)
def test_bad_input_says_what_is_wrong(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        call()
