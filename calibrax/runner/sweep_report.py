"""The report of a sweep: its axes, every job's outcome, speedups across hardware targets and
scaling fits across a size axis (``calibrax sweep``), and its HTML page and publication figures
(``calibrax report --sweep``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibrax.analysis import Comparison, ScalingFit, compare_runs, fit_power_law
from calibrax.core.errors import ExporterError, NotFoundError
from calibrax.core.models import CaseStatus, RunInfo, RunStatus
from calibrax.core.result import RunRecord
from calibrax.exporters import EXPORTERS, Exporter, get_exporter, report_settings, sweep_exporter
from calibrax.runner.sweep import job_overrides
from calibrax.storage import Store

__all__ = ["JobRow", "ScalingRow", "SweepReport", "sweep_members", "sweep_page", "sweep_report"]


@dataclass(frozen=True)
class JobRow:
    """One job: its run, status, values on the swept axes and why it did not finish ok."""

    run_id: str
    status: str
    axes: Mapping[str, str]
    cases_ok: int
    cases: int
    reason: str | None = None


@dataclass(frozen=True)
class ScalingRow:
    """A power-law fit of a benchmark's median time over one numeric param."""

    benchmark: str
    param: str
    fixed: Mapping[str, Any]
    fit: ScalingFit


@dataclass(frozen=True)
class SweepReport:
    """Everything ``calibrax sweep`` shows."""

    sweep_id: str
    axes: tuple[str, ...]
    jobs: tuple[JobRow, ...]
    hardware: Comparison | None = None
    scaling: tuple[ScalingRow, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _axes(runs: Sequence[RunInfo]) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for run in runs:
        values[run.id] = dict(o.split("=", 1) for o in job_overrides(run.overrides) if "=" in o)
    return values


def _reason(record: RunRecord) -> str | None:
    if record.run.status is RunStatus.OK:
        return None
    failed = [c for c in record.cases if c.status is not CaseStatus.OK]
    if failed and failed[0].error:
        last = failed[0].error.strip().splitlines()[-1]
        first_sentence = last.split(": ", 1)[0] if len(last) > 100 else last
        return f"{failed[0].status.value}: {first_sentence[:160]}"
    return str(record.run.status.value)


def _scaling(records: Sequence[RunRecord]) -> list[ScalingRow]:
    """Power-law fits wherever one numeric param takes 3+ values with the others fixed."""
    points: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = defaultdict(list)
    for record in records:
        for case in record.cases:
            t = case.measures.get("time")
            if case.status is not CaseStatus.OK or t is None or t.summary is None:
                continue
            for name, value in case.params.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                    rest = tuple(sorted((k, str(v)) for k, v in case.params.items() if k != name))
                    points[(case.benchmark, name, rest)].append((float(value), t.summary.median))
    rows = []
    for (bench, param, rest), pts in sorted(points.items()):
        if len({x for x, _ in pts}) >= 3:
            xs, ys = zip(*sorted(pts), strict=True)
            rows.append(ScalingRow(bench, param, dict(rest), fit_power_law(xs, ys)))
    return rows


def _overlaps(runs: Sequence[RunInfo]) -> list[str]:
    spans = sorted((r.started_at, r.finished_at or r.started_at, r) for r in runs)
    pinned = all((r.config.get("sweep") or {}).get("assigned", {}).get("cores") for r in runs)
    clash = any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    if clash and not pinned:
        return ["Jobs ran at the same time on shared CPU cores, so their timings disturbed each other; "
                "use sweep.pin_cores=true or hydra.launcher.n_jobs=1 for timings you compare."]
    return []


def _sweep_runs(store: Store, sweep_id: str) -> tuple[str, list[RunInfo]]:
    """The sweep's id (``latest`` resolved) and its runs, oldest first."""
    all_runs = store.list_runs()
    sweeps = list(dict.fromkeys(r.sweep_id for r in all_runs if r.sweep_id))
    if sweep_id == "latest" and sweeps:
        sweep_id = sweeps[0]
    runs = [r for r in reversed(all_runs) if r.sweep_id == sweep_id]
    if not runs:
        raise NotFoundError(f"No sweep {sweep_id!r} in the store. Stored sweeps: {', '.join(sweeps[:10]) or '(none)'}.")
    return str(sweep_id), runs


def _varying(axes_of: Mapping[str, Mapping[str, str]]) -> tuple[str, ...]:
    return tuple(sorted(k for k in {k for a in axes_of.values() for k in a}
                        if len({a.get(k) for a in axes_of.values()}) > 1))


def sweep_members(store: Store, sweep_id: str = "latest") -> tuple[str, tuple[str, ...], list[RunRecord]]:
    """A stored sweep's id (``latest`` resolved), its swept override keys and its member runs.

    Raises:
        NotFoundError: no such sweep in the store.

    Example:
        sweep_id, axes, records = sweep_members(store, "latest")
    """
    sweep_id, runs = _sweep_runs(store, sweep_id)
    return sweep_id, _varying(_axes(runs)), [store.load_run(r.id) for r in runs]


def sweep_page(store: Store, sweep_id: str = "latest", settings: Mapping[str, Any] | None = None,
               exporter: str | None = None, folder: Path | None = None) -> tuple[str, str]:
    """The sweep's id and its self-contained page (all member runs, comparisons, charts); for a
    ``folder`` exporter, the receipt of the files it wrote into ``folder``.

    Args:
        store: the store holding the sweep.
        sweep_id: the sweep (``latest``: the newest).
        settings: the page exporter's settings (default: the first member run's, without its title).
        exporter: the exporter that renders it (default: the first registered one that
            declares ``renders_sweeps``).
        folder: where a ``folder`` exporter writes its files.

    Raises:
        NotFoundError: no such sweep in the store, or no such exporter.
        ExporterError: the exporter does not render sweeps.

    Example:
        sweep_id, page = sweep_page(store, "latest")
    """
    renderer = _sweep_renderer(exporter)
    sweep_id, axes, records = sweep_members(store, sweep_id)
    if settings is None:  # the members' chart options; their run-report title does not fit the sweep
        settings = {k: v for k, v in report_settings(records[0], renderer.name).items() if k != "title"}
    return sweep_id, renderer.render_sweep(sweep_id, records, settings, axes, folder)


def _sweep_renderer(name: str | None) -> Exporter:
    """The named exporter, checked to render sweeps, or the first registered one that does (an
    ``entry`` exporter, whose file is the page a person opens, before the others)."""
    names = [name] if name else sorted(EXPORTERS.names(), key=lambda n: not get_exporter(n).entry)
    renderer = sweep_exporter(names)
    if renderer is None:
        what = f"The {name} exporter does not" if name else "No registered exporter can"
        able = [n for n in EXPORTERS.names() if get_exporter(n).renders_sweeps]
        raise ExporterError(f"{what} render a whole sweep; use an exporter that declares renders_sweeps "
                            f"({', '.join(able) or 'none is registered'}).")
    return renderer


def sweep_folder(report_root: Path, sweep_id: str) -> Path:
    """The folder of a sweep's reports: ``<report_root>/sweep-<id>`` (unsafe characters as ``_``).

    Example:
        >>> sweep_folder(Path("reports"), "2026-11-26_10-00-00").as_posix()
        'reports/sweep-2026-11-26_10-00-00'
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in sweep_id)
    return report_root / f"sweep-{safe}"


def write_sweep_page(store: Store, sweep_id: str, report_root: Path, out: Path | None = None,
                     exporter: str | None = None, settings: Mapping[str, Any] | None = None) -> Path:
    """Render a stored sweep with an exporter that declares ``renders_sweeps`` and return the
    file written: its page at ``out`` (default: the exporter's file in the sweep's folder), or,
    for a ``folder`` exporter, the receipt of the files it wrote into ``out`` (default: the
    sweep's folder).

    Args:
        exporter: the exporter that renders it (default: the first registered one that
            declares ``renders_sweeps``: html, whose file is ``index.html``).
        settings: the exporter's settings (default: the first member run's, without its title).

    Raises:
        NotFoundError: no such sweep in the store, or no such exporter.
        ExporterError: the exporter does not render sweeps.

    Example:
        write_sweep_page(store, "latest", Path("reports"))  # reports/sweep-<id>/index.html
    """
    renderer = _sweep_renderer(exporter)
    if renderer.output == "folder":
        resolved = sweep_id if out is not None else sweep_members(store, sweep_id)[0]
        folder = out or sweep_folder(report_root, resolved)
        _, receipt = sweep_page(store, sweep_id, settings, renderer.name, folder)
        path = folder / renderer.filename
    else:
        resolved, receipt = sweep_page(store, sweep_id, settings, renderer.name)
        path = out or sweep_folder(report_root, resolved) / renderer.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(receipt, encoding="utf-8")
    return path


def sweep_report(store: Store, sweep_id: str = "latest") -> SweepReport:
    """Build the report of one stored sweep (``latest``: the newest sweep).

    Raises:
        NotFoundError: no such sweep in the store.
    """
    sweep_id, runs = _sweep_runs(store, sweep_id)
    axes_of = _axes(runs)
    varying = _varying(axes_of)
    records = [store.load_run(r.id) for r in runs]
    jobs = tuple(JobRow(rec.run.id, rec.run.status.value, {k: axes_of[rec.run.id].get(k, "") for k in varying},
                        sum(c.status is CaseStatus.OK for c in rec.cases), len(rec.cases), _reason(rec))
                 for rec in records)
    ok = [rec for rec in records if rec.run.status is RunStatus.OK]
    hardware = None
    if len({axes_of[r.run.id].get("hardware") for r in ok} - {None}) >= 2:
        hardware = compare_runs(sorted(ok, key=lambda r: axes_of[r.run.id].get("hardware", "")), 0, measures=["time"])
    return SweepReport(str(sweep_id), varying, jobs, hardware, tuple(_scaling(ok)), tuple(_overlaps(runs)))
