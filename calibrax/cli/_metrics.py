"""``calibrax metrics``: the metric registry from the command line.

The metrics package (and with it JAX) is imported inside the command, so ``calibrax --help``
stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from calibrax.cli._common import echo_json, echo_table, json_option

__all__ = ["metrics_group"]

_PROPERTIES = ("true_metric", "symmetric", "non_negative", "proper_scoring_rule", "differentiable", "jit_compatible")


@click.group("metrics")
def metrics_group() -> None:
    """The metrics calibrax can compute, with their declared properties.

    Example: calibrax metrics list --domain regression
    """


@metrics_group.command("list")
@click.option("--domain", help="Only metrics of this domain, e.g. regression.")
@click.option("--tier", type=click.IntRange(0, 3), help="Only metrics of this tier (0 functional ... 3 losses).")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help=f"Only metrics that declare NAME (repeatable): {', '.join(_PROPERTIES)}, or an invariance "
                   "such as rotation.")
@json_option
def metrics_list(domain: str | None, tier: int | None, properties: tuple[str, ...], as_json: bool) -> None:
    """List registered metrics (built-in, plugins and yours), filtered.

    Example: calibrax metrics list --domain regression
    """
    from calibrax import metrics

    entries = metrics.list_metrics(domain=domain, tier=tier, **_property_filters(properties))
    if as_json:
        echo_json([e.to_dict() for e in entries])
        return
    rows = [[e.name, e.domain, str(int(e.tier)), e.direction.value,
             ",".join(p for p in _PROPERTIES if getattr(e, p)) or "-"] for e in entries]
    echo_table(rows, ["name", "domain", "tier", "better", "properties"])
    click.echo(f"{len(entries)} metric(s)")


def _property_filters(properties: Sequence[str]) -> dict[str, Any]:
    """``--property`` names as ``list_metrics`` filters: flags set to True, invariances listed."""
    from calibrax import metrics

    flags: dict[str, Any] = {}
    invariances = []
    for name in properties:
        if name in _PROPERTIES:
            flags[name] = True
        elif name in metrics.INVARIANCES:
            invariances.append(name)
        else:
            known = ", ".join([*_PROPERTIES, *sorted(metrics.INVARIANCES)])
            raise click.BadParameter(f"unknown property {name!r}; known: {known}.", param_hint="--property")
    if invariances:
        flags["invariances"] = invariances
    return flags
