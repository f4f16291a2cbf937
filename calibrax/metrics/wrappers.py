"""Wrappers around any metric: a bootstrap confidence interval, per-class values, a best-value
tracker and running extrema.

The trackers follow init/update/compute over an explicit state (a NamedTuple of arrays), so
they run inside ``jax.jit`` and ``jax.lax.scan`` and their one-shot form is
``compute(update(init(), x))``.

Example:
    >>> import jax.numpy as jnp
    >>> t = BestValueTracker("lower")
    >>> s = t.update(t.update(t.init(), 0.5, step=1), 0.7, step=2)
    >>> tuple(float(v) for v in t.compute(s))
    (0.5, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.errors import CalibraxError
from calibrax.core.models import Direction
from calibrax.metrics._api import get
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_int, infer_num_classes

__all__ = [
    "BestState",
    "BestValueTracker",
    "BootstrapResult",
    "ExtremaState",
    "RunningExtrema",
    "bootstrap_ci",
    "per_class",
]

MetricLike = str | Callable[..., Any]
_PER_SAMPLE = ("weights", "mask")  # keyword options resampled with their rows


def _function(metric: MetricLike) -> Callable[..., Any]:
    return get(metric).function if isinstance(metric, str) else metric


class BootstrapResult(NamedTuple):
    """A metric's value with a percentile bootstrap confidence interval.

    Attributes:
        value: the metric on the full inputs.
        low: the lower percentile of the resampled values.
        high: the upper percentile of the resampled values.
        standard_error: the standard deviation of the resampled values.
    """

    value: Array
    low: Array
    high: Array
    standard_error: Array


def _rows(inputs: tuple[Any, ...]) -> int:
    shapes = [tuple(jnp.shape(x)) for x in inputs]
    if not shapes or any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
        raise MetricInputError(
            "bootstrap_ci resamples rows, so every input needs the same number of rows (first axis); got "
            f"shapes {', '.join(map(str, shapes)) or 'none'}."
        )
    if shapes[0][0] < 2:
        raise MetricInputError(f"bootstrap_ci needs at least 2 rows to resample; got {shapes[0][0]}.")
    return shapes[0][0]


@partial(jax.jit, static_argnames=("fn", "num_resamples", "confidence", "static"))
def _bootstrap(fn: Callable[..., Any], key: Array, inputs: tuple[Array, ...], per_sample: dict[str, Array],
               fixed: dict[str, Array], static: tuple[tuple[str, Any], ...], num_resamples: int,
               confidence: float) -> tuple[Array, ...]:
    n = inputs[0].shape[0]
    idx = jax.random.randint(key, (num_resamples, n), 0, n)

    def one(rows: Array) -> Array:
        resampled = {k: v[rows] for k, v in per_sample.items()}
        return fn(*(x[rows] for x in inputs), **resampled, **fixed, **dict(static))

    values = jax.vmap(one)(idx)
    tail = 50.0 * (1.0 - confidence)
    low, high = jnp.nanpercentile(values, jnp.array([tail, 100.0 - tail]))
    return low, high, jnp.nanstd(values)


def bootstrap_ci(metric: MetricLike, *inputs: ArrayLike, num_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0, **kwargs: Any) -> BootstrapResult:
    """Percentile bootstrap CI of any metric: rows of every input are resampled together, all
    resamples computed at once with ``jax.vmap`` inside one ``jax.jit``.

    Args:
        metric: a registry name or a metric function.
        *inputs: the metric's positional inputs, one row per sample (same number of rows).
        num_resamples: how many bootstrap resamples.
        confidence: the interval's coverage, in (0, 1).
        seed: the seed of the resampling (the same seed gives the same interval).
        **kwargs: the metric's options; ``weights`` and ``mask`` are resampled with the rows.
            Metrics that need ``num_classes`` under jit need it here too.

    Returns:
        :class:`BootstrapResult` (value, low, high, standard_error).

    Raises:
        MetricInputError: inputs with different numbers of rows, fewer than 2 rows, or an
            invalid ``confidence`` or ``num_resamples``.
        NotFoundError: an unknown metric name.

    Example:
        >>> import jax.numpy as jnp
        >>> p, t = jnp.arange(50.0), jnp.arange(50.0) + 1.0
        >>> r = bootstrap_ci("mae", p, t, num_resamples=200)
        >>> float(r.value), float(r.low), float(r.high)
        (1.0, 1.0, 1.0)

    References:
        Efron and Tibshirani (1993), An Introduction to the Bootstrap, chapter 13 (percentile
        intervals).
    """
    if not 0.0 < confidence < 1.0:
        raise MetricInputError(f"confidence must be in (0, 1); got {confidence!r}.")
    if int(num_resamples) < 2:
        raise MetricInputError(f"num_resamples must be at least 2; got {num_resamples!r}.")
    fn = _function(metric)
    arrays = tuple(jnp.asarray(x) for x in inputs)
    n = _rows(arrays)
    per_sample = {k: jnp.asarray(v) for k, v in kwargs.items() if k in _PER_SAMPLE and v is not None}
    bad = {k: tuple(v.shape) for k, v in per_sample.items() if v.shape[:1] != (n,)}
    if bad:
        raise MetricInputError(f"Per-sample options need one value per row ({n}); got shapes {bad}.")
    options = {k: v for k, v in kwargs.items() if k not in per_sample}
    fixed = {k: v for k, v in options.items() if isinstance(v, (jax.Array, np.ndarray))}
    static = tuple(sorted((k, v) for k, v in options.items() if k not in fixed))
    value = fn(*arrays, **kwargs)
    low, high, se = _bootstrap(fn, jax.random.key(seed), arrays, per_sample, fixed, static, int(num_resamples),
                               float(confidence))
    return BootstrapResult(jnp.asarray(value), low, high, se)


def per_class(metric: MetricLike, predictions: ArrayLike, targets: ArrayLike, *, num_classes: int | None = None,
              **kwargs: Any) -> Array:
    """The metric for each class, one-vs-rest: class c's value is the metric on the binary
    problem "is c" (labels 1 where the label is c, else 0).

    Integer ``predictions`` are labels and are binarised like ``targets``; float
    ``predictions`` of shape ``(n, K)`` are per-class scores, and class c's column is passed as
    the binary scores (for ``roc_auc``, ``average_precision``, ``log_loss`` and the like).

    Args:
        metric: a registry name or a function ``fn(predictions, targets, **kwargs)`` that
            scores a binary problem (class 1 is the positive class).
        predictions: ``(n,)`` integer labels, or ``(n, K)`` scores.
        targets: ``(n,)`` integer labels.
        num_classes: K; read from the scores' last axis, or from the labels outside ``jax.jit``.
        **kwargs: passed to the metric.

    Returns:
        An array of shape ``(K,)``.

    Raises:
        MetricInputError: predictions and targets that do not fit together, or float
            predictions that are not ``(n, K)`` scores.

    Example:
        >>> import jax.numpy as jnp
        >>> per_class("recall", jnp.array([0, 1, 1, 2]), jnp.array([0, 1, 2, 2])).tolist()
        [1.0, 1.0, 0.5]
    """
    fn = _function(metric)
    t = as_int(targets, "targets")
    p = jnp.asarray(predictions)
    if jnp.issubdtype(p.dtype, jnp.floating):
        if p.ndim != 2 or p.shape[0] != t.shape[0]:
            raise MetricInputError(
                f"Float predictions are per-class scores of shape (n, K) with n = {t.shape[0]} rows; got "
                f"{tuple(p.shape)}. Pass integer labels to score labels."
            )
        k = p.shape[1]
        columns = jnp.moveaxis(p, 1, 0)
        return jax.vmap(lambda col, c: fn(col, (t == c).astype(jnp.int32), **kwargs))(columns, jnp.arange(k))
    p = as_int(p, "predictions")
    if p.shape != t.shape:
        raise MetricInputError(f"predictions and targets must have the same shape; got {tuple(p.shape)} and "
                               f"{tuple(t.shape)}.")
    k = infer_num_classes(num_classes, p, t)
    return jax.vmap(lambda c: fn((p == c).astype(jnp.int32), (t == c).astype(jnp.int32), **kwargs))(jnp.arange(k))


class BestState(NamedTuple):
    """The best value seen, the step it was seen at (-1 before any), and the number of updates."""

    value: Array
    step: Array
    updates: Array


class BestValueTracker:
    """Tracks the best value of a metric over steps, in the metric's direction.

    Ties keep the earlier step; NaN never counts as an improvement.

    Args:
        direction: ``"higher"`` or ``"lower"`` is better, or a registry metric name whose
            declared direction is used.

    Raises:
        CalibraxError: a direction that is neither (``info`` metrics have no best value).

    Example:
        >>> t = BestValueTracker("accuracy")
        >>> s = t.init()
        >>> for step, acc in enumerate([0.7, 0.9, 0.8]):
        ...     s = t.update(s, acc, step=step)
        >>> (round(float(s.value), 2), int(s.step))
        (0.9, 1)
    """

    def __init__(self, direction: Direction | str) -> None:
        if isinstance(direction, str) and direction not in {d.value for d in Direction}:
            direction = get(direction).direction
        self.direction = Direction(direction)
        if self.direction is Direction.INFO:
            raise CalibraxError("A best value needs a direction: 'higher' or 'lower' is better; got 'info'.")

    def init(self) -> BestState:
        """The state before any value: the worst possible value at step -1."""
        worst = -jnp.inf if self.direction is Direction.HIGHER else jnp.inf
        return BestState(jnp.asarray(worst, jnp.result_type(float)), jnp.asarray(-1, jnp.int32),
                         jnp.asarray(0, jnp.int32))

    def update(self, state: BestState, value: ArrayLike, step: ArrayLike | None = None) -> BestState:
        """Record ``value`` at ``step`` (default: the number of earlier updates)."""
        v = jnp.asarray(value, state.value.dtype)
        if v.ndim:
            raise MetricInputError(f"BestValueTracker.update takes one scalar value; got shape {tuple(v.shape)}.")
        at = state.updates if step is None else jnp.asarray(step, jnp.int32)
        better = v > state.value if self.direction is Direction.HIGHER else v < state.value
        return BestState(jnp.where(better, v, state.value), jnp.where(better, at, state.step), state.updates + 1)

    def compute(self, state: BestState) -> tuple[Array, Array]:
        """The best value and its step."""
        return state.value, state.step


class ExtremaState(NamedTuple):
    """The smallest and largest values seen, and how many (non-NaN) values were seen."""

    min: Array
    max: Array
    seen: Array


class RunningExtrema:
    """Running minimum and maximum over every element of every update (NaN elements ignored).

    Example:
        >>> import jax.numpy as jnp
        >>> r = RunningExtrema()
        >>> s = r.update(r.update(r.init(), jnp.array([3.0, 1.0])), 7.0)
        >>> tuple(float(v) for v in r.compute(s))
        (1.0, 7.0)
    """

    def init(self) -> ExtremaState:
        """The empty state (min +inf, max -inf, nothing seen)."""
        dtype = jnp.result_type(float)
        return ExtremaState(jnp.asarray(jnp.inf, dtype), jnp.asarray(-jnp.inf, dtype), jnp.asarray(0, jnp.int32))

    def update(self, state: ExtremaState, values: ArrayLike) -> ExtremaState:
        """Fold ``values`` (a scalar or an array of any shape) into the state."""
        v = jnp.asarray(values, state.min.dtype).ravel()
        seen = ~jnp.isnan(v)
        return ExtremaState(jnp.minimum(state.min, jnp.min(jnp.where(seen, v, jnp.inf), initial=jnp.inf)),
                            jnp.maximum(state.max, jnp.max(jnp.where(seen, v, -jnp.inf), initial=-jnp.inf)),
                            state.seen + jnp.sum(seen).astype(jnp.int32))

    def merge(self, a: ExtremaState, b: ExtremaState) -> ExtremaState:
        """The state of both streams together."""
        return ExtremaState(jnp.minimum(a.min, b.min), jnp.maximum(a.max, b.max), a.seen + b.seen)

    def compute(self, state: ExtremaState) -> tuple[Array, Array]:
        """The minimum and maximum (inf and -inf before any value)."""
        return state.min, state.max
