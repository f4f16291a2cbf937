"""Look up, filter and call registered metrics by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from calibrax.core.errors import CalibraxError
from calibrax.core.registry import close_matches
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.registry import METRICS, PROPERTY_NAMES, MetricEntry, Tier

__all__ = ["compute", "domains", "get", "list_metrics"]

_FILTERS = (*PROPERTY_NAMES, "direction", "signature")


def get(name: str) -> MetricEntry:
    """Return the registry entry of metric ``name``.

    Raises:
        NotFoundError: no such metric; the message lists close matches.

    Example:
        >>> get("f1").domain
        'classification'
    """
    return METRICS.get(name)


def domains() -> list[str]:
    """Every domain with at least one metric, sorted.

    Example:
        >>> "regression" in domains()
        True
    """
    return sorted({entry.domain for _, entry in METRICS.items()})


def _matches(entry: MetricEntry, key: str, wanted: Any) -> bool:
    if key == "invariances":
        wanted_set = {wanted} if isinstance(wanted, str) else set(wanted)
        return wanted_set <= entry.invariances
    value = getattr(entry, key)
    return bool(value == wanted or getattr(value, "value", None) == wanted)


def list_metrics(domain: str | None = None, tier: int | None = None, **props: Any) -> list[MetricEntry]:
    """Registered metrics, sorted by name, filtered by domain, tier and declared properties.

    Args:
        domain: keep metrics of this domain.
        tier: keep metrics of this tier (0 functional, 1 frozen backbone, 2 learned, 3 loss).
        **props: property filters, e.g. ``true_metric=True``, ``invariances="rotation"``
            (a name or a set of names that must all be declared), ``direction="higher"``.

    Raises:
        CalibraxError: an unknown domain or property name.

    Example:
        >>> [e.name for e in list_metrics(domain="distance", true_metric=True)][:2]
        ['angular_distance', 'canberra']
    """
    unknown = [k for k in props if k not in _FILTERS]
    if unknown:
        hints = [m for k in unknown for m in close_matches(k, list(_FILTERS))]
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise CalibraxError(f"Unknown metric property {unknown[0]!r}.{hint} Known: {', '.join(_FILTERS)}.")
    entries = [entry for _, entry in METRICS.items()]
    if domain is not None and domain not in {e.domain for e in entries}:
        known = sorted({e.domain for e in entries})
        hints = close_matches(domain, known)
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise CalibraxError(f"Unknown metric domain {domain!r}.{hint} Known domains: {', '.join(known)}.")
    if tier is not None and tier not in {int(t) for t in Tier}:
        raise CalibraxError(f"tier must be one of 0, 1, 2, 3; got {tier!r}.")
    return [
        e for e in entries
        if (domain is None or e.domain == domain)
        and (tier is None or int(e.tier) == int(tier))
        and all(_matches(e, k, v) for k, v in props.items())
    ]


@cache
def _parameters(fn: Callable[..., Any]) -> Mapping[str, inspect.Parameter] | None:
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None


def _call(entry: MetricEntry) -> str:
    return f"calibrax.metrics.compute({entry.name!r}, {', '.join(entry.inputs)}, **options)"


def _check_call(entry: MetricEntry, inputs: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a call that gives the wrong number of inputs, an input by keyword or an unknown option."""
    try:
        params = _parameters(entry.function)
    except TypeError:  # an unhashable callable: its own TypeError will do
        params = None
    roles = entry.inputs
    positional = [p for p in (params or {}).values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in positional) if params is not None else len(roles)
    if not required <= len(inputs) <= len(roles):
        wanted = f"{len(roles)}" if required == len(roles) else f"{required} to {len(roles)}"
        noun = "input" if wanted == "1" else "inputs, in that order"
        raise MetricInputError(
            f"Metric {entry.name!r} takes {wanted} positional {noun} ({', '.join(roles)}); got {len(inputs)}. "
            f"Call {_call(entry)}."
        )
    by_keyword = [k for k in kwargs if k in roles or k in {p.name for p in positional[:len(roles)]}]
    if by_keyword:
        raise MetricInputError(
            f"Metric {entry.name!r} takes its inputs positionally, in the order ({', '.join(roles)}); "
            f"{by_keyword} was passed as a keyword. Call {_call(entry)}."
        )
    if params is None or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    options = [p.name for p in positional[len(roles):]] + [p.name for p in params.values()
                                                            if p.kind is p.KEYWORD_ONLY]
    unknown = [k for k in kwargs if k not in options]
    if unknown:
        hints = [m for k in unknown for m in close_matches(k, options)]
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise MetricInputError(
            f"Metric {entry.name!r} has no option {unknown[0]!r}.{hint} Its options: "
            f"{', '.join(options) or 'none'}."
        )


def compute(name: str, *inputs: Any, **kwargs: Any) -> Any:
    """Compute metric ``name`` on ``inputs`` (keyword options passed through).

    The inputs are positional, in the order the entry declares (``get(name).inputs``):
    predictions first, then targets, for every metric that compares the two.

    Raises:
        NotFoundError: no such metric.
        MetricInputError: the wrong number of inputs, an input passed by keyword, an unknown
            option, inputs of the wrong shape or an invalid option value.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(compute("accuracy", jnp.array([0, 1, 1]), jnp.array([0, 1, 0]))), 4)
        0.6667
        >>> get("homogeneity").inputs
        ('predictions', 'targets')
    """
    entry = get(name)
    _check_call(entry, inputs, kwargs)
    return entry.function(*inputs, **kwargs)
