"""Tier 2: a learned perceptual distance (LPIPS-style) over a pluggable backbone.

:class:`LPIPS` compares two images through the feature maps of a frozen backbone: each layer's
features are scaled to unit length along the channel axis, the squared difference is weighted per
channel by learned non-negative weights (a 1x1 linear map to one output), averaged over space and
summed over layers. Only those weights train; the backbone stays frozen.

Training (:func:`train_lpips`) uses 2AFC triplets: a reference, two distortions of it, and the
fraction of observers who found ``distortion1`` closer to the reference. The model's guess that
``distortion1`` is closer is ``sigmoid(s * (d0 - d1))`` with ``d0``, ``d1`` the two distances
and ``s`` a learned positive scale; the loss is the binary cross-entropy of that guess against
the observers' fraction. This needs no extra ranking network and leaves the distance itself as
the only learned scorer. Weights save and load with :func:`calibrax.metrics.save_weights` and
:func:`calibrax.metrics.load_weights`, which check every shape.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> model = LPIPS(ConvFeatures(3, (4, 8), rngs=nnx.Rngs(0)), channels=(4, 8))
    >>> x = jnp.linspace(0.0, 1.0, 2 * 8 * 8 * 3).reshape(2, 8, 8, 3)
    >>> [float(d) for d in model(x, x)]
    [0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.registry import Signature, Tier, builtin

__all__ = [
    "LPIPS",
    "ConvFeatures",
    "PerceptualWeight",
    "TrainResult",
    "lpips",
    "train_lpips",
    "two_afc_loss",
    "two_afc_score",
]


class PerceptualWeight(nnx.Param):
    """A learned per-channel weight of :class:`LPIPS` (the only variables that train)."""


class _Scale(nnx.Variable):
    """Log of the learned scale that turns a distance difference into a logit."""


class ConvFeatures(nnx.Module):
    """A small convolutional backbone: one NHWC feature map per stage (3x3 convolutions, ReLU,
    stride 2 after the first stage).

    Args:
        in_channels: channels of the input images.
        channels: output channels of each stage.
        rngs: random keys of the initial weights.

    Example:
        >>> import jax.numpy as jnp
        >>> [f.shape for f in ConvFeatures(3, (4, 8), rngs=nnx.Rngs(0))(jnp.zeros((1, 8, 8, 3)))]
        [(1, 8, 8, 4), (1, 4, 4, 8)]
    """

    def __init__(self, in_channels: int, channels: Sequence[int] = (8, 16, 32), *, rngs: nnx.Rngs) -> None:
        ins = (in_channels, *channels[:-1])
        self.convs = nnx.List([
            nnx.Conv(i, o, (3, 3), strides=1 if s == 0 else 2, rngs=rngs)
            for s, (i, o) in enumerate(zip(ins, channels, strict=True))
        ])

    def __call__(self, x: Array) -> list[Array]:
        out = []
        for conv in self.convs:
            x = nnx.relu(conv(x))
            out.append(x)
        return out


def _layers(features: Any, channels: tuple[int, ...], name: str) -> list[Array]:
    if not isinstance(features, list | tuple) or len(features) != len(channels):
        if isinstance(features, list | tuple):
            got = f"{len(features)} maps"
        else:
            got = f"an array of shape {tuple(features.shape)}" if hasattr(features, "shape") else type(features).__name__
        raise MetricInputError(
            f"The backbone must return a list of {len(channels)} NHWC feature maps (one per entry of channels) "
            f"for {name}; got {got}."
        )
    for i, (f, c) in enumerate(zip(features, channels, strict=True)):
        if f.ndim != 4 or f.shape[-1] != c:
            raise MetricInputError(
                f"Feature map {i} of {name} must be NHWC with {c} channels; got shape {tuple(f.shape)}. "
                "Make channels list the backbone's output channels."
            )
    return list(features)


class LPIPS(nnx.Module):
    """Learned perceptual distance between images, one value per image pair.

    Args:
        backbone: an ``nnx.Module`` or callable mapping a batch of images to a list of NHWC
            feature maps (put a module with dropout or batch norm in evaluation mode first).
        channels: the channel count of each feature map the backbone returns.
        eps: added to the feature norm before dividing.

    Raises:
        MetricInputError: ``backbone`` is not callable or ``channels`` is empty or not positive.

    Example:
        >>> import jax.numpy as jnp
        >>> model = LPIPS(lambda x: [x], channels=(3,))
        >>> x = jnp.zeros((1, 4, 4, 3)).at[..., 0].set(1.0)
        >>> float(model(x, x.at[..., 0].set(0.0).at[..., 1].set(1.0))[0])
        2.0

    References:
        Zhang et al. (2018), The unreasonable effectiveness of deep features as a perceptual
        metric.
    """

    def __init__(self, backbone: Callable[[Array], Sequence[Array]], channels: Sequence[int], *,
                 eps: float = 1e-10) -> None:
        if not callable(backbone):
            raise MetricInputError(f"backbone must be an nnx.Module or a callable; got {type(backbone).__name__}.")
        chans = tuple(channels)
        if not chans or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in chans):
            raise MetricInputError(f"channels must list one positive channel count per feature map; got {channels!r}.")
        self.backbone = backbone
        self.channels = chans
        self.eps = float(eps)
        self.weights = nnx.List([PerceptualWeight(jnp.ones((c,), jnp.float32)) for c in chans])

    def __call__(self, x: ArrayLike, y: ArrayLike) -> Array:
        """Distances between ``x`` and ``y`` (same shape, first axis the batch), shape (n,).

        Raises:
            MetricInputError: ``x`` and ``y`` differ in shape, or the backbone's output does not
                match ``channels``.
        """
        a, b = jnp.asarray(x), jnp.asarray(y)
        if a.shape != b.shape:
            raise MetricInputError(f"x and y must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
        graphdef, state = nnx.split(self)
        return _distances(graphdef, state, a, b)


@partial(jax.jit, static_argnums=0)
def _distances(graphdef: nnx.GraphDef[LPIPS], state: nnx.State, a: Array, b: Array) -> Array:
    """The distances, compiled once per model structure and input shape."""
    model = nnx.merge(graphdef, state)
    fa = _layers(model.backbone(a), model.channels, "x")
    fb = _layers(model.backbone(b), model.channels, "y")
    total = jnp.zeros((a.shape[0],), jnp.result_type(float))
    for f1, f2, w in zip(fa, fb, model.weights, strict=True):
        n1 = f1 / (jnp.sqrt(jnp.sum(f1 * f1, axis=-1, keepdims=True)) + model.eps)
        n2 = f2 / (jnp.sqrt(jnp.sum(f2 * f2, axis=-1, keepdims=True)) + model.eps)
        per_pixel = jnp.sum((n1 - n2) ** 2 * jnp.maximum(w[...], 0.0), axis=-1)
        total = total + jnp.mean(per_pixel, axis=(1, 2))
    # compiled backbones may round the two passes differently (~1e-15); equal images get exactly 0
    same = jnp.all((a == b).reshape(a.shape[0], -1), axis=1)
    return jnp.where(same, 0.0, total)


class TrainResult(NamedTuple):
    """What :func:`train_lpips` did: the loss of each step and the final logit scale."""

    losses: list[float]
    scale: float


def _triplets(reference: ArrayLike, distortion0: ArrayLike, distortion1: ArrayLike,
              judgement: ArrayLike) -> tuple[Array, Array, Array, Array]:
    ref, d0, d1 = jnp.asarray(reference), jnp.asarray(distortion0), jnp.asarray(distortion1)
    h = jnp.asarray(judgement, jnp.result_type(float))
    if not ref.shape == d0.shape == d1.shape:
        raise MetricInputError(
            f"reference, distortion0 and distortion1 must have one shape; got {tuple(ref.shape)}, "
            f"{tuple(d0.shape)} and {tuple(d1.shape)}."
        )
    if h.shape != ref.shape[:1]:
        raise MetricInputError(f"judgement must have one value per triplet, shape {ref.shape[:1]}; got {tuple(h.shape)}.")
    if h.size and not bool(jnp.all((h >= 0) & (h <= 1))):
        raise MetricInputError(
            "judgement must be the fraction of observers who found distortion1 closer, in [0, 1]; got values in "
            f"[{float(h.min()):.3g}, {float(h.max()):.3g}]."
        )
    return ref, d0, d1, h


def two_afc_loss(model: LPIPS, reference: ArrayLike, distortion0: ArrayLike, distortion1: ArrayLike,
                 judgement: ArrayLike, log_scale: ArrayLike = 0.0) -> Array:
    """Binary cross-entropy of ``sigmoid(exp(log_scale) * (d0 - d1))`` against ``judgement``.

    Example:
        >>> import jax.numpy as jnp
        >>> model = LPIPS(lambda x: [x], channels=(2,))
        >>> ref = jnp.ones((1, 2, 2, 2))
        >>> round(float(two_afc_loss(model, ref, ref, ref, jnp.array([0.5]))), 4)  # log 2: no preference
        0.6931
    """
    logits = jnp.exp(log_scale) * (model(reference, distortion0) - model(reference, distortion1))
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, judgement))


def two_afc_score(model: LPIPS, reference: ArrayLike, distortion0: ArrayLike, distortion1: ArrayLike,
                  judgement: ArrayLike) -> float:
    """Agreement with the observers: the mean of ``judgement`` where the model finds
    ``distortion1`` closer, of ``1 - judgement`` where it finds ``distortion0`` closer, 0.5 on ties.
    ``1 - score`` is the 2AFC error.

    Raises:
        MetricInputError: arrays of mismatched shape or a judgement outside [0, 1].

    Example:
        >>> import jax.numpy as jnp
        >>> model = LPIPS(lambda x: [x], channels=(1,))
        >>> ref = jnp.ones((2, 1, 1, 1))
        >>> two_afc_score(model, ref, ref, -ref, jnp.array([0.0, 0.25]))  # d0 = 0 < d1 = 4
        0.875
    """
    ref, d0, d1, h = _triplets(reference, distortion0, distortion1, judgement)
    dist0, dist1 = model(ref, d0), model(ref, d1)
    agree = jnp.where(dist1 < dist0, h, jnp.where(dist1 > dist0, 1.0 - h, 0.5))
    return float(jnp.mean(agree))


class _Trainee(nnx.Module):
    def __init__(self, model: LPIPS) -> None:
        self.model = model
        self.log_scale = _Scale(jnp.zeros((), jnp.float32))


_TRAINED = nnx.Any(PerceptualWeight, _Scale)


@nnx.jit
def _step(trainee: _Trainee, optimizer: nnx.Optimizer, ref: Array, d0: Array, d1: Array, h: Array) -> Array:
    def loss_fn(t: _Trainee) -> Array:
        return two_afc_loss(t.model, ref, d0, d1, h, t.log_scale[...])

    loss, grads = nnx.value_and_grad(loss_fn, argnums=nnx.DiffState(0, _TRAINED))(trainee)
    optimizer.update(trainee, grads)
    for w in trainee.model.weights:  # project back onto the non-negative weights
        w[...] = jnp.maximum(w[...], 0.0)
    return loss


def train_lpips(model: LPIPS, reference: ArrayLike, distortion0: ArrayLike, distortion1: ArrayLike,
                judgement: ArrayLike, *, steps: int = 100, batch_size: int = 32, learning_rate: float = 1e-2,
                seed: int = 0) -> TrainResult:
    """Fit ``model``'s per-channel weights in place on 2AFC triplets with Adam.

    Each step draws ``batch_size`` triplets (seeded) and takes one Adam step on
    :func:`two_afc_loss`; the weights are clipped at zero after every step. The backbone is not
    changed.

    Args:
        model: the model to train.
        reference: reference images, first axis the triplet.
        distortion0: first distortion of each reference.
        distortion1: second distortion of each reference.
        judgement: fraction of observers who found ``distortion1`` closer, in [0, 1].
        steps: optimisation steps.
        batch_size: triplets per step (all of them when there are fewer).
        learning_rate: Adam's step size.
        seed: seed of the batch draws.

    Returns:
        The loss of every step and the learned logit scale.

    Raises:
        MetricInputError: mismatched shapes, a judgement outside [0, 1], no triplets, or a
            non-positive ``steps``, ``batch_size`` or ``learning_rate``.

    Example:
        >>> import jax.numpy as jnp
        >>> model = LPIPS(lambda x: [x], channels=(2,))
        >>> ref = jnp.ones((4, 2, 2, 2))
        >>> len(train_lpips(model, ref, ref * 0.9, ref * 0.5, jnp.zeros(4), steps=3).losses)
        3
    """
    ref, d0, d1, h = _triplets(reference, distortion0, distortion1, judgement)
    for value, name in ((steps, "steps"), (batch_size, "batch_size")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MetricInputError(f"{name} must be a positive integer; got {value!r}.")
    if not learning_rate > 0:
        raise MetricInputError(f"learning_rate must be positive; got {learning_rate!r}.")
    n = ref.shape[0]
    if n == 0:
        raise MetricInputError("train_lpips needs at least one triplet; got none.")
    trainee = _Trainee(model)
    optimizer = nnx.Optimizer(trainee, optax.adam(learning_rate), wrt=_TRAINED)
    rng = np.random.default_rng(seed)
    size = min(batch_size, n)
    losses = []
    for _ in range(steps):
        idx = jnp.asarray(rng.choice(n, size, replace=False))
        losses.append(float(_step(trainee, optimizer, ref[idx], d0[idx], d1[idx], h[idx])))
    return TrainResult(losses, float(jnp.exp(trainee.log_scale[...])))


@builtin("lpips", Direction.LOWER, Signature.PAIR, domain="image", tier=Tier.LEARNED, symmetric=True,
         non_negative=True, differentiable=True, class_path="calibrax.metrics.perceptual:LPIPS")
def lpips(x: ArrayLike, y: ArrayLike, *, model: LPIPS | None = None) -> Array:
    """Mean LPIPS-style perceptual distance of image pairs under a given :class:`LPIPS` model.

    Raises:
        MetricInputError: no ``model`` given, or inputs the model refuses.

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.zeros((2, 4, 4, 3)).at[..., 0].set(1.0)
        >>> float(lpips(x, x, model=LPIPS(lambda im: [im], channels=(3,))))
        0.0
    """
    if not isinstance(model, LPIPS):
        raise MetricInputError(
            f"lpips needs model=LPIPS(backbone, channels) (trained, or restored with load_weights); got "
            f"{type(model).__name__}."
        )
    return jnp.mean(model(x, y))

