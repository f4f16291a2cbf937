"""``calibrax benchmarks list``: the benchmarks calibrax-run can run here."""

from __future__ import annotations

from typing import Any

import click

from calibrax.cli._common import CalibraxGroup, echo_json, echo_table, format_params, json_option

__all__ = ["benchmarks"]


@click.group(cls=CalibraxGroup)
def benchmarks() -> None:
    """The benchmarks calibrax-run can run here.

    Example: calibrax benchmarks list
    """


@benchmarks.command("list")
@json_option
def benchmarks_list(as_json: bool) -> None:
    """List benchmarks from conf/benchmark/ (yours in ./conf first) and plugins.

    Example: calibrax benchmarks list --json
    """
    rows = _benchmark_rows()
    if as_json:
        echo_json(rows)
        return
    echo_table([[r["name"], format_params(r["params"]), r["description"]] for r in rows],
               ["name", "params", "description"])


def _benchmark_rows() -> list[dict[str, Any]]:
    """Every benchmark by name: those conf/ declares, then those only a plugin registers."""
    from calibrax.core.benchmark import BENCHMARKS
    from calibrax.runner.catalog import discover_benchmarks

    catalog = discover_benchmarks()
    rows: list[dict[str, Any]] = [{"name": e.name, "source": e.source, "params": dict(e.params),
                                   "description": f"cannot be read: {e.problem}" if e.problem else e.description,
                                   "config": str(e.config_file)}
                                  for e in catalog.values()]
    for name, spec in BENCHMARKS.items():
        if name not in catalog:
            rows.append({"name": name, "source": spec.definition_key, "description": spec.description,
                         "params": {k: list(v) for k, v in spec.params.items()}, "config": None})
    rows.sort(key=lambda r: r["name"])
    return rows
