"""``calibrax runs`` and ``calibrax show``: the stored runs, and one run with its cases."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from calibrax.cli._common import db_option, echo_json, echo_table, format_params, json_option, open_store

if TYPE_CHECKING:
    from calibrax.core.checks import ValidationEntry
    from calibrax.core.models import RunInfo, Summary
    from calibrax.core.result import RunRecord
    from calibrax.storage import Artifact, InterleavedLink

__all__ = ["runs", "show"]


@click.command()
@db_option
@json_option
@click.option("--limit", type=click.IntRange(min=1, max=10**9), default=None,
              help="Show only the newest N runs (1 to 10^9).")
def runs(db: Path, as_json: bool, limit: int | None) -> None:
    """List stored runs, newest first.

    Example: calibrax runs --limit 5
    """
    from calibrax.core.result import run_info_to_dict

    with open_store(db, read_only=True) as store:
        found: list[RunInfo] = store.list_runs(limit=limit)
        links = store.interleaved_links([r.id for r in found])
    if as_json:
        echo_json([{**{k: v for k, v in run_info_to_dict(r).items() if k != "config"},
                    **({"interleaved": _link(r.id, links[r.id])} if r.id in links else {})} for r in found])
        return
    rows = [[r.id, r.status.value, r.started_at[:19], (r.git.commit or "-")[:10], r.sweep_id or "-"] for r in found]
    header = ["id", "status", "started (UTC)", "commit", "sweep"]
    if links:
        for row, r in zip(rows, found, strict=True):
            row.append(_link_text(r.id, links[r.id]) if r.id in links else "-")
        header.append("interleaved gate")
    echo_table(rows, header)


def _link(run_id: str, link: InterleavedLink) -> dict[str, str]:
    """A run's side of an interleaved gate, and the run on the other side."""
    role = "candidate" if run_id == link.candidate_run_id else "baseline"
    return {"role": role, "run_id": link.other(run_id)}


def _link_text(run_id: str, link: InterleavedLink) -> str:
    """``baseline trials of RUN`` on the linked baseline run, ``gated against RUN`` on the candidate."""
    if run_id == link.candidate_run_id:
        return f"gated against {link.baseline_run_id}"
    return f"baseline trials of {link.candidate_run_id}"


@click.command()
@click.argument("run", default="latest")
@db_option
@json_option
@click.option("--no-samples", is_flag=True, help="Leave the raw samples out of --json.")
@click.option("--measure", "measures", multiple=True,
              help="Show these measures, one row per case and measure (repeatable; default: time).")
@click.option("--all", "all_measures", is_flag=True, help="Show every stored measure of every case.")
def show(run: str, db: Path, as_json: bool, no_samples: bool, measures: Sequence[str], all_measures: bool) -> None:
    """Show one run (an id, a unique id prefix, or 'latest') with its cases.

    Without --measure or --all the table shows time and compile time; quality metrics,
    throughput and every profiler's measures appear with --measure NAME or --all.

    Example: calibrax show latest --measure time --measure accuracy
    """
    with open_store(db, read_only=True) as store:
        record: RunRecord = store.load_run(run)
        checks, gate = store.load_validation(record.run.id)
        artifacts = store.load_artifacts(record.run.id)
        links = store.interleaved_links([record.run.id])
    if as_json:
        link = {"interleaved": _link(record.run.id, links[record.run.id])} if links else {}
        echo_json({**record.to_dict(samples=not no_samples), **link})
        return
    if links:
        click.echo(_link_line(record.run.id, links[record.run.id]))
    if measures or all_measures:
        _render_measures(record, _chosen_measures(record, measures, all_measures))
    else:
        _render_run(record)
    _render_validation(checks, gate)
    _render_artifacts(record, artifacts)


def _link_line(run_id: str, link: InterleavedLink) -> str:
    """What ``show`` says first about a run on either side of an interleaved gate."""
    if run_id == link.candidate_run_id:
        return (f"Interleaved gate: the baseline commit's trial values are run {link.baseline_run_id} "
                f"(calibrax show {link.baseline_run_id}).")
    return (f"Interleaved baseline of run {link.candidate_run_id}: each sample is one trial's value of the "
            "baseline commit, not a sample of a plain run.")


def _render_run(record: RunRecord) -> None:
    from calibrax.core import format_seconds

    r = record.run
    click.echo(f"Run {r.id}  {r.status.value}  started {r.started_at[:19]}  commit {(r.git.commit or '-')[:10]}")
    if r.hardware is not None:
        click.echo(f"Hardware {r.hardware.backend}/{r.hardware.device_kind} x{r.hardware.device_count}, "
                   f"{r.hardware.cpu_model}, {r.hardware.cpu_count} cores ({r.hardware.fingerprint})")
    rows = []
    for c in record.cases:
        t = c.measures.get("time")
        s = t.summary if t is not None else None
        ci = _interval(s, "s")
        comp = c.measures.get("compile_time")
        rows.append([c.benchmark, format_params(c.params), c.status.value, format_seconds(s.median if s else None),
                     ci, str(s.n if s else 0),
                     format_seconds(comp.samples[0] if comp and comp.samples else None)])
    echo_table(rows, ["benchmark", "params", "status", "time", "95% CI", "n", "compile"])


def _chosen_measures(record: RunRecord, names: Sequence[str], every: bool) -> list[str]:
    """The measure names to show, in first-seen order; an unknown name is an error naming the stored ones."""
    from calibrax.core import ConfigError, unknown_name_message

    stored: dict[str, None] = {}
    for case in record.cases:
        stored.update(dict.fromkeys(case.measures))
        stored.update(dict.fromkeys(case.unavailable or ()))
    if every:
        return list(stored)
    for name in names:
        if name not in stored:
            raise ConfigError(unknown_name_message(f"measure in run {record.run.id}", name, list(stored))
                              + " Use --all to see every stored measure.")
    return list(dict.fromkeys(names))


def _interval(s: Summary | None, unit: str) -> str:
    """A summary's CI, or '-' where one sample (or none) gives no interval to show."""
    from calibrax.core import format_value

    if s is None or s.n < 2 or not (math.isfinite(s.ci_low) and math.isfinite(s.ci_high)):
        return "-"
    return f"[{format_value(s.ci_low, unit)}, {format_value(s.ci_high, unit)}]"


def _render_measures(record: RunRecord, names: Sequence[str]) -> None:
    """One row per case and chosen measure: median (or the one value), CI, n, direction."""
    from calibrax.core import format_value

    rows = []
    for c in record.cases:
        for name in names:
            m = c.measures.get(name)
            if m is None:
                reason = c.unavailable.get(name) if c.unavailable else None
                rows.append([c.benchmark, format_params(c.params), c.status.value, name,
                             "unavailable" if reason else "-", reason or "-", "0", "-"])
                continue
            s = m.summary
            value = s.median if s is not None else (m.samples[0] if m.samples else None)
            rows.append([c.benchmark, format_params(c.params), c.status.value, name,
                         format_value(value, m.measure.unit), _interval(s, m.measure.unit),
                         str(s.n if s else len(m.samples)), m.measure.direction.value])
    echo_table(rows, ["benchmark", "params", "status", "measure", "median", "95% CI", "n", "better"])


def _render_validation(checks: Sequence[ValidationEntry], gate: bool) -> None:
    if not checks:
        return
    failed = [c for c in checks if not c.passed]
    click.echo(f"Validation: {len(checks) - len(failed)} of {len(checks)} checks passed{' (gating)' if gate else ''}")
    for check in failed:
        click.echo(f"  VIOLATION {check.kind} {check.name}: {check.message}")


def _render_artifacts(record: RunRecord, artifacts: Sequence[Artifact]) -> None:
    for art in artifacts:
        case = record.cases[art.case_seq] if art.case_seq < len(record.cases) else None
        where = f"{case.benchmark} {format_params(case.params)}" if case else f"case {art.case_seq}"
        click.echo(f"{art.name.capitalize()} of {where}: {art.path}")
