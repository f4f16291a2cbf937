"""Input checks and reductions shared by the functional metrics.

Shape and option checks run while tracing, so they also fire under ``jax.jit``. Values are
not checked (that would need concrete arrays); each metric's docstring states its domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.metrics.errors import MetricInputError

__all__ = [
    "as_float",
    "as_int",
    "check_ndim",
    "check_option",
    "check_same_shape",
    "infer_num_classes",
    "pairwise_sq_dists",
    "safe_div",
    "sample_weights",
    "weighted_mean",
]


def as_float(x: ArrayLike, name: str) -> Array:
    """``x`` as a floating array (integers and booleans become the default float)."""
    try:
        arr = jnp.asarray(x)
    except TypeError as exc:
        raise MetricInputError(f"{name} must be an array of numbers; got {type(x).__name__} ({exc}).") from None
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    return arr


def as_int(x: ArrayLike, name: str) -> Array:
    """``x`` as an integer array of labels; floats are refused rather than silently cast."""
    arr = jnp.asarray(x)
    if jnp.issubdtype(arr.dtype, jnp.floating):
        raise MetricInputError(
            f"{name} must hold integer labels; got dtype {arr.dtype}. Pass class ids (e.g. "
            "argmax of the scores) or use a metric that takes scores."
        )
    return arr.astype(jnp.int32)


def check_same_shape(a: Array, b: Array, names: tuple[str, str] = ("predictions", "targets")) -> None:
    """Raise unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise MetricInputError(
            f"{names[0]} and {names[1]} must have the same shape; got {tuple(a.shape)} and "
            f"{tuple(b.shape)}."
        )


def check_ndim(x: Array, name: str, allowed: Iterable[int]) -> None:
    """Raise unless ``x.ndim`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if x.ndim not in allowed:
        want = " or ".join(str(n) for n in allowed)
        raise MetricInputError(f"{name} must have {want} dimension(s); got shape {tuple(x.shape)}.")


def check_option(value: Any, name: str, allowed: Sequence[Any]) -> None:
    """Raise unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise MetricInputError(f"{name} must be one of {list(allowed)}; got {value!r}.")


def sample_weights(n: int, weights: ArrayLike | None, mask: ArrayLike | None, name: str = "targets") -> Array:
    """One weight per sample from optional ``weights`` and boolean ``mask`` (False drops)."""
    w = jnp.ones((n,), jnp.result_type(float))
    for arg, label in ((weights, "weights"), (mask, "mask")):
        if arg is None:
            continue
        arr = jnp.asarray(arg)
        if arr.shape != (n,):
            raise MetricInputError(
                f"{label} must have one value per sample, shape ({n},) to match {name}; got "
                f"{tuple(arr.shape)}."
            )
        w = w * arr.astype(w.dtype)
    return w


def weighted_mean(values: Array, w: Array) -> Array:
    """Weighted mean over axis 0; ``w`` has one weight per row."""
    w = w.reshape(w.shape + (1,) * (values.ndim - 1)).astype(values.dtype)
    return jnp.sum(values * w, axis=0) / jnp.sum(w)


def safe_div(num: Array, den: Array, fill: float = 0.0) -> Array:
    """``num / den`` with ``fill`` where ``den`` is zero (and a gradient that stays finite)."""
    zero = den == 0
    return jnp.where(zero, fill, num / jnp.where(zero, 1, den))


def infer_num_classes(num_classes: int | None, *labels: Array) -> int:
    """``num_classes`` if given, else one more than the largest label (eager calls only)."""
    if num_classes is not None:
        if int(num_classes) < 1:
            raise MetricInputError(f"num_classes must be a positive integer; got {num_classes!r}.")
        return int(num_classes)
    try:
        return int(max(int(jnp.max(lab)) for lab in labels if lab.size)) + 1
    except jax.errors.ConcretizationTypeError:
        raise MetricInputError(
            "num_classes cannot be read from the labels inside jax.jit; pass num_classes=K "
            "(the number of classes or clusters) as a static argument."
        ) from None
    except ValueError:
        raise MetricInputError("labels are empty; pass at least one sample.") from None


def pairwise_sq_dists(x: Array, y: Array) -> Array:
    """Squared Euclidean distances between the rows of ``x`` (n, d) and ``y`` (m, d)."""
    diff = x[:, None, :] - y[None, :, :]
    return jnp.sum(diff * diff, axis=-1)
