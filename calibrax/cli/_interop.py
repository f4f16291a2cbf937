"""``calibrax import`` (other tools' benchmark files into the store) and ``calibrax export`` (a
stored run back out as pytest-benchmark JSON or asv results)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from calibrax.cli._common import db_option, echo_json, echo_table, json_option, open_store

__all__ = ["export_cmd", "import_cmd"]

_IMPORT_FORMATS = ("auto", "pytest-benchmark", "asv", "google-benchmark")
_EXPORT_FORMATS = ("pytest-benchmark", "asv")


@click.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(_IMPORT_FORMATS), default="auto", show_default=True,
              help="The tool that wrote PATH.")
@click.option("--baseline", default=None, metavar="NAME", help="Set this baseline to the newest imported run.")
@db_option
@json_option
def import_cmd(path: Path, fmt: str, baseline: str | None, db: Path, as_json: bool) -> None:
    """Import pytest-benchmark JSON, an asv results folder or Google Benchmark JSON from PATH.

    Each file becomes one stored run; a file imported before adds nothing.

    Example: calibrax import .asv/results --baseline main
    """
    from calibrax.interop import import_path
    from calibrax.storage import Store

    with Store.open(db) as store:  # import may create the store: it can be the first thing stored
        report = import_path(store, path, fmt, baseline)
    if as_json:
        echo_json(report.to_dict())
        return
    rows = [(e.run_id, "added" if e.added else "already stored", e.started_at[:19], (e.commit or "-")[:10],
             e.cases, e.failed) for e in report.entries]
    echo_table(rows, ("run", "status", "date", "commit", "cases", "failed/skipped"))
    new = len(report.added)
    click.echo(f"Imported {new} new run(s) of {len(report.entries)} from {path} ({report.format}) into {db}"
               + ("" if new else "; all were already stored, nothing was added") + ".")
    if report.baseline:
        click.echo(f"Baseline {report.baseline!r} -> {report.entries[-1].run_id}")


@click.command("export")
@click.argument("run", default="latest")
@click.option("--format", "fmt", type=click.Choice(_EXPORT_FORMATS), required=True, help="The format to write.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The file (pytest-benchmark) or the asv results folder to write.")
@db_option
@json_option
def export_cmd(run: str, fmt: str, out: Path, db: Path, as_json: bool) -> None:
    """Write a stored run as pytest-benchmark JSON or into an asv results folder.

    Example: calibrax export latest --format pytest-benchmark --out .benchmarks/calibrax/0001_run.json
    """
    from calibrax.interop import export_run

    with open_store(db) as store:
        report = export_run(store, run, fmt, out)
    if as_json:
        echo_json(asdict(report))
        return
    click.echo(f"Wrote run {report.run_id} as {report.format} ({report.benchmarks} benchmarks): "
               + ", ".join(report.files))
