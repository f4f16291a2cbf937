"""Look up, filter and call registered metrics by name."""

from __future__ import annotations

from typing import Any

from calibrax.core.errors import CalibraxError
from calibrax.core.registry import close_matches
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


def compute(name: str, *inputs: Any, **kwargs: Any) -> Any:
    """Compute metric ``name`` on ``inputs`` (keyword options passed through).

    Raises:
        NotFoundError: no such metric.
        MetricInputError: inputs of the wrong shape or an invalid option.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(compute("accuracy", jnp.array([0, 1, 1]), jnp.array([0, 1, 0]))), 4)
        0.6667
    """
    return get(name).function(*inputs, **kwargs)
