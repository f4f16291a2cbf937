"""``calibrax metrics``: the metric registry from the command line.

The metrics package (and with it JAX) is imported inside the command, so ``calibrax --help``
stays fast.
"""

from __future__ import annotations

import json
from typing import Any

import click

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
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def metrics_list(domain: str | None, tier: int | None, properties: tuple[str, ...], as_json: bool) -> None:
    """List registered metrics (built-in, plugins and yours), filtered.

    Example: calibrax metrics list --domain regression
    """
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
    entries = metrics.list_metrics(domain=domain, tier=tier, **flags)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    rows = [[e.name, e.domain, str(int(e.tier)), e.direction.value,
             ",".join(p for p in _PROPERTIES if getattr(e, p)) or "-"] for e in entries]
    header = ["name", "domain", "tier", "better", "properties"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"{len(entries)} metric(s)")
