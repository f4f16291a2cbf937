"""The metric registry: one frozen entry per metric, declaring its properties.

Built-in metrics register when :mod:`calibrax.metrics` is imported; user metrics register
through :func:`register` or through the ``calibrax.metrics`` entry-point group. A user
registration always wins: it replaces a built-in of the same name, and a built-in never
replaces a user's metric.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from importlib import metadata
from types import ModuleType
from typing import Any, TypeVar

from calibrax.core.errors import CalibraxError
from calibrax.core.models import Direction
from calibrax.core.registry import Registry, close_matches

__all__ = [
    "INVARIANCES",
    "METRICS",
    "PROPERTY_NAMES",
    "MetricEntry",
    "Signature",
    "Tier",
    "builtin",
    "register",
]

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger(__name__)


class Tier(IntEnum):
    """How a metric is computed: 0 pure function, 1 frozen backbone, 2 learned, 3 loss."""

    FUNCTIONAL = 0
    FROZEN = 1
    LEARNED = 2
    LOSS = 3


class Signature(str, Enum):
    """What the positional inputs of a metric are."""

    PREDICTIONS_TARGETS = "predictions_targets"  # fn(predictions, targets)
    PAIR = "pair"  # fn(x, y): two points, vectors, matrices or point sets of one space
    DISTRIBUTIONS = "distributions"  # fn(p, q): probability vectors on the last axis
    SAMPLES = "samples"  # fn(x, y): two sets of samples, one sample per row
    FEATURES_LABELS = "features_labels"  # fn(features, labels): clustering without ground truth
    SINGLE = "single"  # fn(x): one input
    GROUPS = "predictions_targets_groups"  # fn(predictions, targets, groups)
    INTERVAL = "interval"  # fn(lower, upper, targets)
    GAUSSIAN = "gaussian"  # fn(mean, variance, targets)
    EMBEDDINGS_LABELS = "embeddings_labels"  # fn(embeddings, labels): one embedding per row, class ids
    VIEWS = "views"  # fn(z1, z2): two views of one batch; row i of each is a positive pair


INVARIANCES = frozenset({"translation", "rotation", "scale", "permutation", "relabeling"})
"""Invariances a metric may declare. ``translation``, ``scale`` and ``rotation`` act on every
floating-point input (shift by a constant, multiply by a positive constant, turn points about
the origin) and leave integer labels alone; ``permutation`` reorders the samples (rows) of every
input together; ``relabeling`` renames the ids of integer labelings."""

PROPERTY_NAMES = (
    "true_metric",
    "symmetric",
    "non_negative",
    "proper_scoring_rule",
    "differentiable",
    "jit_compatible",
    "invariances",
)


@dataclass(frozen=True)
class MetricEntry:
    """One registered metric and the properties it declares (the test harness checks them).

    Example:
        >>> from calibrax.metrics import get
        >>> entry = get("mse")
        >>> (entry.domain, entry.direction.value, entry.non_negative)
        ('regression', 'lower', True)
    """

    name: str  # snake_case registry name
    function: Callable[..., Any]  # the metric itself, returning a scalar array
    domain: str  # e.g. "regression", "distance"
    direction: Direction  # LOWER or HIGHER is better; INFO when neither
    signature: Signature  # what the positional inputs are
    tier: Tier = Tier.FUNCTIONAL
    true_metric: bool = False  # identity of indiscernibles, symmetry, triangle inequality
    symmetric: bool = False  # fn(a, b) == fn(b, a)
    non_negative: bool = False  # fn(...) >= 0 for every valid input
    proper_scoring_rule: bool = False  # expected score is optimal at the true distribution
    differentiable: bool = False  # finite, non-zero gradients w.r.t. the first input
    jit_compatible: bool = True  # jax.jit(fn) gives the eager value
    invariances: frozenset[str] = field(default_factory=frozenset)
    description: str = ""  # one line; defaults to the first docstring line
    class_path: str = ""  # tiers 1 and 2: "module:Class" holding the state or the weights
    builtin: bool = False  # shipped with calibrax (a user entry of the same name wins)

    def __post_init__(self) -> None:
        unknown = set(self.invariances) - INVARIANCES
        if unknown:
            raise CalibraxError(
                f"Metric {self.name!r} declares unknown invariances {sorted(unknown)}; "
                f"allowed: {sorted(INVARIANCES)}."
            )
        if not self.name or not self.name.replace("_", "a").isalnum() or self.name.lower() != self.name:
            raise CalibraxError(f"Metric name {self.name!r} must be snake_case, e.g. 'my_metric'.")
        object.__setattr__(self, "invariances", frozenset(self.invariances))
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "signature", Signature(self.signature))
        object.__setattr__(self, "tier", Tier(self.tier))
        if not self.description:
            doc = (getattr(self.function, "__doc__", None) or "").strip()
            object.__setattr__(self, "description", doc.splitlines()[0] if doc else "")

    @property
    def definition_key(self) -> str:
        """The metric function's qualified name (lets a module be imported twice)."""
        fn = self.function
        return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"

    def properties(self) -> dict[str, Any]:
        """The declared properties, invariances as a sorted list."""
        return {
            name: sorted(self.invariances) if name == "invariances" else getattr(self, name)
            for name in PROPERTY_NAMES
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the entry (the function as its qualified name)."""
        return {
            "name": self.name,
            "domain": self.domain,
            "tier": int(self.tier),
            "direction": self.direction.value,
            "signature": self.signature.value,
            **self.properties(),
            "function": self.definition_key,
            "description": self.description,
            "class_path": self.class_path,
            "builtin": self.builtin,
        }


class _MetricRegistry(Registry[MetricEntry]):
    """A :class:`Registry` in which user entries take precedence over built-ins."""

    def add(self, entry: MetricEntry, *, replace: bool = False) -> MetricEntry:
        existing = self._members.get(entry.name)
        if existing is not None:
            if entry.builtin and not existing.builtin:
                return existing  # a user's metric is never overwritten by a built-in
            if existing.builtin and not entry.builtin:
                replace = True
        return self.register(entry.name, entry, replace=replace)

    def get(self, name: str) -> MetricEntry:
        self.load_entry_points()  # once: a plugin may replace a built-in of the same name
        return super().get(name)

    def load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=self.group):
            held = self._members.get(ep.name)
            if held is not None and not held.builtin:
                continue
            try:
                loaded = ep.load()
                if isinstance(loaded, MetricEntry):
                    self.add(loaded)
                elif not isinstance(loaded, ModuleType):
                    raise CalibraxError(
                        f"entry point {ep.value!r} gives a {type(loaded).__name__}; it must name a "
                        "module that calls calibrax.metrics.register, or a MetricEntry"
                    )
            except Exception as exc:  # a broken plugin must not hide the others
                _log.warning("Could not load metric plugin %r (%s): %s", ep.name, ep.value, exc)


METRICS = _MetricRegistry("metric", "calibrax.metrics")
"""Every registered metric, by name."""


def _entry_kwargs(props: dict[str, Any]) -> dict[str, Any]:
    allowed = {f.name for f in fields(MetricEntry)} - {"name", "function", "builtin"}
    unknown = sorted(set(props) - allowed)
    if unknown:
        hints = [m for u in unknown for m in close_matches(u, sorted(allowed))]
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise CalibraxError(f"Unknown metric option(s) {unknown}.{hint} Allowed: {sorted(allowed)}.")
    return props


def register(
    name: str | None = None,
    *,
    domain: str,
    direction: Direction | str,
    signature: Signature | str,
    replace: bool = False,
    **props: Any,
) -> Callable[[F], F]:
    """Register a metric function under ``name`` (default: the function's name).

    Args:
        name: the registry name, snake_case.
        domain: the domain it belongs to, e.g. ``"regression"``.
        direction: ``"lower"`` or ``"higher"`` is better, or ``"info"``.
        signature: what the positional inputs are (see :class:`Signature`).
        replace: replace another user registration of the same name.
        **props: ``tier`` and the properties of :class:`MetricEntry`.

    Raises:
        CalibraxError: an unknown property, an invalid name, or a name already taken by
            another user metric when ``replace`` is false.

    Example:
        >>> import jax.numpy as jnp
        >>> from calibrax import metrics
        >>> @metrics.register(domain="regression", direction="lower",
        ...                   signature="predictions_targets", non_negative=True)
        ... def doctest_mean_cubed_error(predictions, targets):
        ...     return jnp.mean(jnp.abs(predictions - targets) ** 3)
        >>> float(metrics.compute("doctest_mean_cubed_error", jnp.array([2.0]), jnp.array([0.0])))
        8.0
        >>> metrics.METRICS.unregister("doctest_mean_cubed_error")
    """

    def decorate(fn: F) -> F:
        entry = MetricEntry(
            name=name or fn.__name__, function=fn, domain=domain, direction=Direction(direction),
            signature=Signature(signature), **_entry_kwargs(props),
        )
        METRICS.add(entry, replace=replace)
        return fn

    return decorate


def builtin(
    name: str,
    direction: Direction,
    signature: Signature,
    *,
    domain: str,
    invariances: Iterable[str] = (),
    **props: Any,
) -> Callable[[F], F]:
    """Register a shipped metric; it is skipped when a user metric holds ``name``."""

    def decorate(fn: F) -> F:
        entry = MetricEntry(
            name=name, function=fn, domain=domain, direction=direction, signature=signature,
            invariances=frozenset(invariances), builtin=True, **_entry_kwargs(props),
        )
        METRICS.add(entry)
        return fn

    return decorate
