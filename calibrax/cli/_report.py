"""``calibrax report``: render a stored run (or a whole sweep) with one exporter."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from calibrax.cli._common import db_option, open_store
from calibrax.core.errors import ConfigError

if TYPE_CHECKING:
    from calibrax.core.result import RunRecord
    from calibrax.exporters import Exporter, ReportInput
    from calibrax.storage import Store

__all__ = ["report"]


@click.command()
@click.argument("run", default="latest")
@click.option("--format", "fmt", default="html", show_default=True,
              help="An exporter: html, latex, markdown, junit, json, figures, wandb, mlflow.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output file, or the folder of a folder exporter such as figures (default: "
                   "reports/<run-id>/<exporter's file name>, reports/sweep-<id>/ for --sweep).")
@click.option("--baseline", "baseline_name", default=None,
              help="The named baseline the run was checked against (default: the run's ci.baseline).")
@click.option("--sweep", "sweep_id", default=None,
              help="Render a whole sweep (an id or 'latest') instead of RUN, with an exporter that "
                   "declares renders_sweeps (html, figures).")
@db_option
def report(run: str, fmt: str, out: Path | None, baseline_name: str | None, sweep_id: str | None, db: Path) -> None:
    """Render a stored run with one exporter, with the exporter settings the run was made with.

    When the run was checked (calibrax check, or calibrax-run ci=stored), its verdicts are
    shown and the HTML report draws the baseline's samples beside the run's. The HTML report
    also shows each case's history from the store (changepoints marked), the run's alerts and
    its validation checks. --format figures writes PDF and SVG figures into the folder --out.
    --sweep renders one page (or one set of figures) for every member run of a sweep.

    Example: calibrax report latest --format latex --out table.tex
    """
    if sweep_id is not None:
        click.echo(str(_sweep_report_files(sweep_id, fmt, out, db)))
        return
    click.echo(_run_report_file(run, fmt, out, baseline_name, db))


def _run_report_file(run: str, fmt: str, out: Path | None, baseline_name: str | None, db: Path) -> str:
    """Write one run's report with exporter ``fmt``; return the file (or a folder exporter's folder) written."""
    from calibrax.exporters import check_report_target, get_exporter

    exporter = get_exporter(fmt)
    if out is not None:
        check_report_target(out, folder=exporter.output == "folder", what="--out")
    with open_store(db, read_only=True) as store:
        report, settings = _report_inputs(store, run, fmt, baseline_name)
    if exporter.output == "folder":
        folder = out or Path("reports") / report.run_id
        receipt = json.loads(exporter.render(report, _into_out(exporter, settings, out), folder))
        _say_skipped(receipt.get("skipped") or {})
        return str(receipt["folder"])
    path = out or Path("reports") / report.run_id / exporter.filename
    text = exporter.render(report, settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"The report could not be written to {str(path)!r}: {exc.strerror or exc}; "
                          "give --out a file path you can write.") from None
    return str(path)


def _report_inputs(store: Store, run: str, fmt: str, baseline_name: str | None) -> tuple[ReportInput, dict[str, Any]]:
    """The report input (the run with its verdicts, and what the exporter needs from the store:
    the baseline, history, alerts, validation) and the exporter's settings as the run stored them."""
    from dataclasses import replace

    from calibrax.exporters import report_input_for, report_settings

    record = store.load_run(run)
    verdicts = store.load_verdicts(record.run.id)
    baseline = _checked_baseline(store, baseline_name, record.run.config, record.run.id) if verdicts else None
    if verdicts:
        names = {"name": baseline[0], "run_id": baseline[1].run.id} if baseline else {}
        record = replace(record, verdicts=tuple(verdicts), baseline=names)
    settings = report_settings(record, fmt)
    return report_input_for(store, record, [fmt], {fmt: settings}), settings


def _sweep_report_files(sweep_id: str, fmt: str, out: Path | None, db: Path) -> Path:
    """Write a sweep's report with exporter ``fmt``; return the file (or a folder exporter's folder) written."""
    from calibrax.exporters import EXPORTERS, check_report_target, get_exporter
    from calibrax.runner.sweep_report import write_sweep_page

    exporter = get_exporter(fmt)
    if not exporter.renders_sweeps:
        able = [n for n in EXPORTERS.names() if get_exporter(n).renders_sweeps]
        raise ConfigError(f"--sweep renders with an exporter that declares renders_sweeps ({', '.join(able)}), "
                          f"got --format {fmt!r}. Use --format {able[0]}." if able else
                          "--sweep needs an exporter that declares renders_sweeps, and none is registered.")
    if out is not None:
        check_report_target(out, folder=exporter.output == "folder", what="--out")
    with open_store(db, read_only=True) as store:
        if exporter.output == "file":
            return write_sweep_page(store, sweep_id, Path("reports"), out, exporter=fmt)
        settings = None
        if out is not None:
            from calibrax.exporters import report_settings
            from calibrax.runner.sweep_report import sweep_members

            first = sweep_members(store, sweep_id)[2][0]
            settings = {k: v for k, v in _into_out(exporter, report_settings(first, fmt), out).items() if k != "title"}
        receipt_path = write_sweep_page(store, sweep_id, Path("reports"), out, exporter=fmt, settings=settings)
    receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    _say_skipped(receipt.get("skipped") or {})
    return Path(receipt.get("folder") or receipt_path.parent)


def _into_out(exporter: Exporter, settings: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """A folder exporter's settings for ``--out``, which names the folder itself: when its
    settings declare a ``dir`` (its subfolder of the report folder), that becomes ``.``."""
    declared = {f.name for f in dataclasses.fields(exporter.settings_type)} if dataclasses.is_dataclass(
        exporter.settings_type) else set()
    return {**settings, "dir": "."} if out is not None and "dir" in declared else settings


def _say_skipped(skipped: Mapping[str, str]) -> None:
    """Name each figure that was not drawn, and why (on stderr: stdout holds the path)."""
    for kind, why in skipped.items():
        click.echo(f"Not drawn: the {kind} figure, because {why}.", err=True)


def _checked_baseline(store: Store, name: str | None, config: Mapping[str, Any],
                      run_id: str = "") -> tuple[str, RunRecord] | None:
    """The named baseline (``name``, else the run config's ``ci.baseline``, else the linked run of
    the interleaved gate that checked ``run_id``, named by its git ref) as a record.

    A name given on the command line must exist; the config's may have been removed since.
    """
    from calibrax.core.errors import NotFoundError

    if name:
        return name, store.load_run(store.get_baseline(name).run_id)
    ci = config.get("ci") or {}
    name = ci.get("baseline")
    if not name:
        linked = store.interleaved_baseline_of(run_id) if run_id and ci.get("mode") == "interleaved" else None
        return (str(ci.get("ref") or "interleaved"), store.load_run(linked)) if linked else None
    try:
        return name, store.load_run(store.get_baseline(name).run_id)
    except NotFoundError:
        return None
