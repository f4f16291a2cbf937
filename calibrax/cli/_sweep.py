"""``calibrax ingest`` (spooled sweep results into the store) and ``calibrax sweep`` (a sweep's report)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from calibrax.cli._common import db_option, echo_json, echo_table, format_params, json_option, open_store

if TYPE_CHECKING:
    from calibrax.runner.sweep_report import SweepReport

__all__ = ["ingest", "sweep"]


@click.command()
@click.argument("path", type=click.Path(exists=False, path_type=Path))
@db_option
@json_option
def ingest(path: Path, db: Path, as_json: bool) -> None:
    """Load spooled sweep results (store=spool) from PATH into the store; already stored runs are skipped.

    PATH is a sweep folder (multirun/DATE/TIME), one job's folder or one calibrax-result.json.
    A job that was killed before writing its result is loaded from its job store as interrupted.

    Example: calibrax ingest multirun/2026-11-26/10-00-00
    """
    from calibrax.runner.sweep import ingest_path
    from calibrax.storage import Store

    with Store.open(db) as store:  # ingest may create the store: it is the first writer of a remote sweep
        added = ingest_path(store, path)
    if as_json:
        echo_json({"ingested": added})
    else:
        click.echo(f"Loaded {len(added)} run(s) into {db}"
                   + (f": {', '.join(added)}" if added else " (all were already stored)."))


@click.command()
@click.argument("sweep_id", default="latest")
@db_option
@json_option
def sweep(sweep_id: str, db: Path, as_json: bool) -> None:
    """A sweep's report: its axes, every job, speedups across hardware, scaling fits.

    Example: calibrax sweep latest
    """
    from calibrax.runner.sweep_report import sweep_report

    with open_store(db, read_only=True) as store:
        rep = sweep_report(store, sweep_id)
    if as_json:
        echo_json(_sweep_dict(rep))
        return
    click.echo(f"Sweep {rep.sweep_id}: {len(rep.jobs)} job(s), axes: {', '.join(rep.axes) or '(none)'}")
    echo_table([[j.run_id, j.status, *(j.axes[a] for a in rep.axes), f"{j.cases_ok}/{j.cases}", j.reason or ""]
                for j in rep.jobs], ["run", "status", *rep.axes, "cases ok", "why not ok"])
    _render_hardware(rep)
    _render_scaling(rep)
    for w in rep.warnings:
        click.echo(f"Warning: {w}")


def _sweep_dict(rep: SweepReport) -> dict[str, Any]:
    """The sweep report as ``calibrax sweep --json`` prints it."""
    return {
        "sweep_id": rep.sweep_id, "axes": list(rep.axes), "warnings": list(rep.warnings),
        "jobs": [vars(j) for j in rep.jobs],
        "hardware": [{"benchmark": r.benchmark, "params": dict(r.params), "winner": r.winner,
                      "runs": [vars(e) for e in r.entries]} for r in rep.hardware.rows] if rep.hardware else [],
        "scaling": [{"benchmark": s.benchmark, "param": s.param, "fixed": dict(s.fixed),
                     "exponent": s.fit["b"].value, "ci": [s.fit["b"].ci_low, s.fit["b"].ci_high],
                     "r_squared": s.fit.r_squared} for s in rep.scaling],
    }


def _render_hardware(rep: SweepReport) -> None:
    if not rep.hardware:
        return
    target = {j.run_id: j.axes.get("hardware", "") for j in rep.jobs}
    targets = list(dict.fromkeys(target[e.run_id] for r in rep.hardware.rows for e in r.entries))
    click.echo("\nSpeedup over the first hardware target (95% CI):")
    rows = []
    for r in rep.hardware.rows:
        cells = {target[e.run_id]: "ref" if e.ci_method == "reference" else
                 f"{e.speedup:.3g}x [{e.ci_low:.3g}, {e.ci_high:.3g}]" for e in r.entries}
        rows.append([r.benchmark, format_params(r.params), *(cells.get(t, "-") for t in targets)])
    echo_table(rows, ["benchmark", "params", *targets])


def _render_scaling(rep: SweepReport) -> None:
    if not rep.scaling:
        return
    click.echo("\nScaling of time (power law, exponent with 95% CI):")
    echo_table([[s.benchmark, s.param, format_params(s.fixed),
                 f"{s.fit['b'].value:.3f} [{s.fit['b'].ci_low:.3f}, {s.fit['b'].ci_high:.3f}]",
                 f"{s.fit.r_squared:.3f}"] for s in rep.scaling], ["benchmark", "over", "fixed", "exponent", "R^2"])
