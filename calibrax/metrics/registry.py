"""The metric registry: one frozen entry per metric, declaring its properties.

Built-in metrics register when :mod:`calibrax.metrics` is imported; user metrics register
through :func:`register` or through the ``calibrax.metrics`` entry-point group. A user
registration always wins: it replaces a built-in of the same name, and a built-in never
replaces a user's metric.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, IntEnum
from importlib import metadata
from types import ModuleType
from typing import Any, TypeVar

from calibrax.core.errors import CalibraxError
from calibrax.core.models import Direction
from calibrax.core.registry import Registry, close_matches
from calibrax.metrics.errors import MetricInputError

__all__ = [
    "INVARIANCES",
    "METRICS",
    "PROPERTY_NAMES",
    "ROLE_PARAMETERS",
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
    """What the positional inputs of a metric are; :attr:`roles` names them in call order.

    Every signature that compares an estimate with a truth puts the estimate first and the
    truth last, as torchmetrics does: ``fn(predictions, targets)``, clustering included, and
    ``fn(generated, real)`` for a generative model's samples.

    Example:
        >>> Signature.PREDICTIONS_TARGETS.roles
        ('predictions', 'targets')
    """

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
    GENERATED_REAL = "generated_real"  # fn(generated, real): a model's samples, then the reference samples

    @property
    def roles(self) -> tuple[str, ...]:
        """The names of the positional inputs, in the order the metric takes them."""
        return _ROLES[self]


_ROLES: dict[Signature, tuple[str, ...]] = {
    Signature.PREDICTIONS_TARGETS: ("predictions", "targets"),
    Signature.PAIR: ("x", "y"),
    Signature.DISTRIBUTIONS: ("p", "q"),
    Signature.SAMPLES: ("x", "y"),
    Signature.FEATURES_LABELS: ("features", "labels"),
    Signature.SINGLE: ("x",),
    Signature.GROUPS: ("predictions", "targets", "groups"),
    Signature.INTERVAL: ("lower", "upper", "targets"),
    Signature.GAUSSIAN: ("mean", "variance", "targets"),
    Signature.EMBEDDINGS_LABELS: ("embeddings", "labels"),
    Signature.VIEWS: ("z1", "z2"),
    Signature.GENERATED_REAL: ("generated", "real"),
}

ROLE_PARAMETERS: Mapping[str, frozenset[str]] = {
    "predictions": frozenset({"predictions", "preds", "y_pred", "labels_pred", "probs", "scores", "log_probs",
                              "decisions", "ensemble", "estimate", "hypothesis"}),
    "targets": frozenset({"targets", "target", "y_true", "labels_true", "observations", "reference", "relevance"}),
    "x": frozenset({"x", "a"}),
    "y": frozenset({"y", "b"}),
    "generated": frozenset({"generated", "fake"}),
    "real": frozenset({"real", "training"}),
    "p": frozenset({"p"}),
    "q": frozenset({"q"}),
    "features": frozenset({"features"}),
    "labels": frozenset({"labels"}),
    "groups": frozenset({"groups"}),
    "lower": frozenset({"lower"}),
    "upper": frozenset({"upper"}),
    "mean": frozenset({"mean"}),
    "variance": frozenset({"variance"}),
    "embeddings": frozenset({"embeddings"}),
    "z1": frozenset({"z1"}),
    "z2": frozenset({"z2"}),
}
"""For each input role, the function parameter names that mean it (a built-in metric names its
positional parameters from this table; a parameter named for another role of its signature is
refused at registration, since it would silently swap the inputs)."""


def _role_of(parameter: str) -> str | None:
    return next((role for role, names in ROLE_PARAMETERS.items() if parameter in names), None)


def _positional(fn: Callable[..., Any]) -> tuple[list[inspect.Parameter], bool] | None:
    """The positional parameters of ``fn`` and whether it takes ``*args``; None if not inspectable."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional, any(p.kind is p.VAR_POSITIONAL for p in params)


def _check_roles(name: str, fn: Callable[..., Any], signature: Signature) -> None:
    """Refuse a function whose parameters disagree with the inputs its signature declares."""
    found = _positional(fn)
    if found is None:
        return
    positional, var = found
    roles = signature.roles
    declared = f"signature {signature.value!r}, fn({', '.join(roles)})"
    required = [p.name for p in positional if p.default is p.empty]
    if len(required) > len(roles) or (not var and len(positional) < len(roles)):
        raise CalibraxError(
            f"Metric {name!r} declares {declared}, but its function takes the positional parameters "
            f"({', '.join(p.name for p in positional)}). Take exactly the declared inputs, in that order, "
            "and pass everything else as keyword options."
        )
    for position, (param, role) in enumerate(zip(positional, roles, strict=False)):
        meant = _role_of(param.name)
        if meant is not None and meant != role and meant in roles:
            raise CalibraxError(
                f"Metric {name!r} declares {declared}, but its parameter {position + 1} is {param.name!r}, "
                f"which names the {meant!r} input: the inputs would be swapped. Put the parameters in the "
                f"declared order, fn({', '.join(roles)})."
            )


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
        _check_roles(self.name, self.function, self.signature)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The roles of the positional inputs, in call order (from :attr:`signature`)."""
        return self.signature.roles

    def order_inputs(self, named: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of ``named`` (role -> input) as positional inputs, in :attr:`inputs` order.

        Raises:
            MetricInputError: a role this metric does not take, or a declared role missing.

        Example:
            >>> from calibrax.metrics import get
            >>> get("homogeneity").order_inputs({"targets": [0, 0, 1], "predictions": [0, 1, 1]})
            ([0, 1, 1], [0, 0, 1])
        """
        roles = self.inputs
        unknown = [k for k in named if k not in roles]
        if unknown:
            hints = [m for k in unknown for m in close_matches(k, list(roles))]
            hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
            raise MetricInputError(
                f"Metric {self.name!r} takes the inputs ({', '.join(roles)}); got unknown input role(s) "
                f"{unknown}.{hint}"
            )
        missing = [r for r in roles if r not in named]
        if missing:
            raise MetricInputError(
                f"Metric {self.name!r} takes the inputs ({', '.join(roles)}); {missing} missing from the "
                f"inputs given ({', '.join(named) or 'none'})."
            )
        return tuple(named[r] for r in roles)

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
            "inputs": list(self.inputs),
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
        CalibraxError: an unknown property, an invalid name, a function whose positional
            parameters disagree with the inputs ``signature`` declares (their number, or a
            parameter named for another input, such as ``labels_true`` first in
            ``fn(predictions, targets)``), or a name already taken by another user metric when
            ``replace`` is false.

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
