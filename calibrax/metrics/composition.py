"""Metrics combined: collections computed in one jitted pass, weighted sums, domain suites and
threshold metrics.

Members are named registry metrics, each with fixed keyword options. A collection traces every
member into one ``jax.jit`` function over the shared inputs, so XLA shares their common work
(the confusion matrix of precision, recall and F1, the residuals of MSE and MAE).

Example:
    >>> import jax.numpy as jnp
    >>> c = MetricCollection(["mse", "mae"])
    >>> {k: float(v) for k, v in c(jnp.array([1.0, 3.0]), jnp.array([1.0, 1.0])).items()}
    {'mse': 2.0, 'mae': 1.0}
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from calibrax.core.errors import CalibraxError
from calibrax.core.models import Direction
from calibrax.core.registry import close_matches
from calibrax.metrics._api import domains, get
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.registry import MetricEntry, Signature

__all__ = [
    "DOMAIN_SUITES",
    "MetricCollection",
    "ThresholdMetric",
    "ThresholdResult",
    "WeightedSum",
    "collection_for_domain",
]

MemberSpec = str | tuple[str, Mapping[str, Any]]
"""A member: a registry name, or ``(registry name, keyword options)``."""

_ROW_ALIGNED = {  # signatures whose inputs hold one row per sample, in the same order
    Signature.PREDICTIONS_TARGETS, Signature.GROUPS, Signature.INTERVAL, Signature.GAUSSIAN,
    Signature.FEATURES_LABELS, Signature.EMBEDDINGS_LABELS, Signature.VIEWS,
}

DOMAIN_SUITES: dict[str, tuple[str, ...]] = {
    "regression": ("mse", "rmse", "mae", "r2", "explained_variance", "max_error", "median_absolute_error"),
    "classification": ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "matthews_corrcoef",
                       "cohen_kappa"),
    "calibration": ("ece", "mce", "brier_score"),
    "segmentation": ("mean_iou", "pixel_accuracy"),
    "distance": ("euclidean", "manhattan", "chebyshev", "cosine_distance"),
    "divergence": ("kl_divergence", "js_divergence", "total_variation", "hellinger"),
    "statistical": ("pearson", "spearman", "kendall_tau", "concordance_correlation"),
    "clustering": ("adjusted_rand_index", "rand_index", "v_measure", "homogeneity", "completeness",
                   "fowlkes_mallows"),
    "metric_learning": ("contrastive_loss", "triplet_loss"),
}
"""The members of :func:`collection_for_domain`'s suites: metrics of one domain that take the
same inputs (classification: labels, or scores whose argmax is the label)."""


@dataclass(frozen=True)
class _Member:
    key: str
    entry: MetricEntry
    kwargs: Mapping[str, Any]

    def __call__(self, *inputs: Any) -> Array:
        try:
            return self.entry.function(*inputs, **self.kwargs)
        except MetricInputError as exc:
            raise MetricInputError(f"Metric {self.key!r} ({self.entry.name}) of the collection: {exc}") from None


def _members(metrics: Iterable[MemberSpec] | Mapping[str, MemberSpec]) -> list[_Member]:
    items = list(metrics.items()) if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    if not items:
        raise CalibraxError("A metric collection needs at least one metric; got none.")
    out: list[_Member] = []
    for key, spec in items:
        if isinstance(spec, str):
            name, kwargs = spec, {}
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], Mapping):
            name, kwargs = spec[0], dict(spec[1])
        else:
            raise CalibraxError(
                f"Each metric is a registry name or a (name, options) pair, e.g. ('f1', {{'average': 'macro'}}); "
                f"got {spec!r}."
            )
        out.append(_Member(key or name, get(name), kwargs))
    keys = [m.key for m in out]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise CalibraxError(
            f"Metric keys {dupes} appear twice in the collection; pass a mapping with distinct keys, e.g. "
            f"{{'f1_macro': ('f1', {{'average': 'macro'}}), 'f1_micro': ('f1', {{'average': 'micro'}})}}."
        )
    return out


def _arity(entry: MetricEntry) -> int:
    return len(entry.inputs)


class MetricCollection:
    """Several metrics over the same inputs, computed by one jitted function.

    Args:
        metrics: registry names, ``(name, options)`` pairs, or a mapping from result key to
            either (to hold one metric twice with different options).
        jit: compile the jit-compatible members into one ``jax.jit`` function (members that
            are not jit-compatible run eagerly beside it).

    Raises:
        NotFoundError: an unknown metric name (the message lists close matches).
        CalibraxError: no members, duplicate keys, or members that take different numbers of
            inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> c = MetricCollection({"f1": ("f1", {"average": "macro", "num_classes": 3}), "acc": "accuracy"})
        >>> out = c(jnp.array([0, 1, 2, 2]), jnp.array([0, 1, 1, 2]))
        >>> sorted(out), round(float(out["acc"]), 2)
        (['acc', 'f1'], 0.75)
    """

    def __init__(self, metrics: Iterable[MemberSpec] | Mapping[str, MemberSpec], *, jit: bool = True) -> None:
        self.members = _members(metrics)
        arities = {m.key: _arity(m.entry) for m in self.members}
        if len(set(arities.values())) > 1:
            raise CalibraxError(
                "The metrics of a collection share their inputs, so each must take the same number of them; "
                f"got {arities}. Split them into collections by signature."
            )
        self.arity = next(iter(arities.values()))
        self._row_aligned = all(m.entry.signature in _ROW_ALIGNED for m in self.members)
        traced = [m for m in self.members if m.entry.jit_compatible] if jit else []
        self._eager = [m for m in self.members if m not in traced]
        self._jitted = jax.jit(lambda *xs: {m.key: m(*xs) for m in traced}) if traced else None

    @property
    def names(self) -> list[str]:
        """The result keys, in order."""
        return [m.key for m in self.members]

    @property
    def directions(self) -> dict[str, Direction]:
        """Each key's direction (lower, higher or info)."""
        return {m.key: m.entry.direction for m in self.members}

    def _check(self, inputs: tuple[Any, ...]) -> None:
        if len(inputs) != self.arity:
            raise MetricInputError(f"This collection takes {self.arity} input(s); got {len(inputs)}.")
        if self._row_aligned:
            rows = [tuple(jnp.shape(x))[:1] for x in inputs]
            if len(set(rows)) > 1:
                shapes = ", ".join(str(tuple(jnp.shape(x))) for x in inputs)
                raise MetricInputError(
                    f"The inputs must hold one row per sample, the same number of rows each; got shapes {shapes}."
                )

    def __call__(self, *inputs: Any) -> dict[str, Array]:
        """Every member's value on ``inputs``, by key, in the collection's order.

        Raises:
            MetricInputError: the wrong number of inputs, inputs with different numbers of rows,
                or a member that refuses them (the message names the member).
        """
        self._check(inputs)
        out: dict[str, Array] = dict(self._jitted(*inputs)) if self._jitted is not None else {}
        for m in self._eager:
            out[m.key] = m(*inputs)
        return {k: out[k] for k in self.names}


class WeightedSum:
    """A weighted sum of metrics over the same inputs, e.g. a training objective of two losses.

    Args:
        weights: result key or registry name -> weight.
        options: registry name per key (default: the key itself) with keyword options, as
            ``key -> (name, options)``.

    Raises:
        NotFoundError: an unknown metric name.
        CalibraxError: no weights, a non-finite weight, or members of different arities.

    Example:
        >>> import jax.numpy as jnp
        >>> s = WeightedSum({"mse": 1.0, "mae": 0.5})
        >>> float(s(jnp.array([1.0, 3.0]), jnp.array([1.0, 1.0])))
        2.5
    """

    def __init__(self, weights: Mapping[str, float], options: Mapping[str, MemberSpec] | None = None) -> None:
        if not weights:
            raise CalibraxError("A weighted sum needs at least one metric weight; got none.")
        bad = {k: w for k, w in weights.items() if not math.isfinite(float(w))}
        if bad:
            raise CalibraxError(f"Weights must be finite numbers; got {bad}.")
        options = options or {}
        self.weights = {k: float(w) for k, w in weights.items()}
        self.collection = MetricCollection({k: options.get(k, k) for k in weights})

    @property
    def direction(self) -> Direction:
        """The members' common direction when every weight is positive; else info."""
        dirs = set(self.collection.directions.values())
        if len(dirs) == 1 and all(w > 0 for w in self.weights.values()):
            return next(iter(dirs))
        return Direction.INFO

    def __call__(self, *inputs: Any) -> Array:
        """The weighted sum of the members' values (differentiable when every member is)."""
        values = self.collection(*inputs)
        return sum((w * values[k] for k, w in self.weights.items()), start=jnp.zeros(()))


def _accepts(fn: Callable[..., Any], option: str) -> bool:
    params = inspect.signature(fn).parameters.values()
    return any(p.name == option or p.kind is p.VAR_KEYWORD for p in params)


def collection_for_domain(domain: str, **options: Any) -> MetricCollection:
    """The suite of a domain (see :data:`DOMAIN_SUITES`) as one collection.

    Args:
        domain: a key of :data:`DOMAIN_SUITES`.
        **options: passed to every member that takes them (e.g. ``average="macro"`` and
            ``num_classes=3`` for multiclass labels).

    Raises:
        CalibraxError: a domain without a suite (with close matches and the domains that have one).

    Example:
        >>> import jax.numpy as jnp
        >>> reg = collection_for_domain("regression")
        >>> round(float(reg(jnp.array([1.0, 2.0, 4.0]), jnp.array([1.0, 2.0, 3.0]))["mae"]), 4)
        0.3333
    """
    if domain not in DOMAIN_SUITES:
        hints = close_matches(domain, list(DOMAIN_SUITES))
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        extra = (f" Domain {domain!r} has metrics but no suite; build one with MetricCollection([...])."
                 if domain in domains() else "")
        raise CalibraxError(
            f"No metric suite for domain {domain!r}.{hint}{extra} Suites: {', '.join(sorted(DOMAIN_SUITES))}."
        )
    specs = []
    for name in DOMAIN_SUITES[domain]:
        fn = get(name).function
        specs.append((name, {k: v for k, v in options.items() if _accepts(fn, k)}))
    return MetricCollection(specs)


@dataclass(frozen=True)
class ThresholdResult:
    """A metric's value checked against its bounds.

    Attributes:
        name: the metric's key.
        value: the computed value.
        passed: ``min <= value <= max`` for the bounds given (NaN never passes).
        min: the lower bound, if any.
        max: the upper bound, if any.
    """

    name: str
    value: float
    passed: bool
    min: float | None
    max: float | None

    def __str__(self) -> str:
        bounds = " and ".join(s for s in (f">= {self.min}" if self.min is not None else "",
                                          f"<= {self.max}" if self.max is not None else "") if s)
        return f"{self.name} = {self.value:.6g} ({'pass' if self.passed else 'FAIL'}: must be {bounds})"


class ThresholdMetric:
    """A metric with a lower and/or upper bound that yields pass or fail.

    Args:
        metric: a registry name, or ``(name, options)``.
        min: the smallest passing value.
        max: the largest passing value.

    Raises:
        NotFoundError: an unknown metric name.
        CalibraxError: no bound, or ``min > max``.

    Example:
        >>> import jax.numpy as jnp
        >>> gate = ThresholdMetric("accuracy", min=0.9)
        >>> str(gate(jnp.array([0, 1, 1, 1]), jnp.array([0, 1, 1, 0])))
        'accuracy = 0.75 (FAIL: must be >= 0.9)'
    """

    def __init__(self, metric: MemberSpec, *, min: float | None = None, max: float | None = None) -> None:  # noqa: A002
        if min is None and max is None:
            raise CalibraxError("A threshold metric needs min, max or both; got neither.")
        if min is not None and max is not None and min > max:
            raise CalibraxError(f"min must not exceed max; got min={min}, max={max}.")
        self.min, self.max = min, max
        self.collection = MetricCollection([metric])
        self.name = self.collection.names[0]

    def __call__(self, *inputs: Any) -> ThresholdResult:
        """Compute the metric and check it against the bounds."""
        value = float(self.collection(*inputs)[self.name])
        passed = not math.isnan(value) and (self.min is None or value >= self.min) and (
            self.max is None or value <= self.max)
        return ThresholdResult(self.name, value, passed, self.min, self.max)
