"""The HTML page of a sweep: one self-contained file for all the member runs of a ``-m`` sweep.

The page lists the runs with their hardware and overrides, compares every case measured by two
or more members (speedup over the first run with a CI), lists every member's cases in one
sortable, filterable table, and draws the roofline, Pareto and scaling charts over all members
(a size sweep gives the scaling law). Like the run report it needs no network and escapes
every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.analysis import Comparison, compare_runs
from calibrax.core import CaseStatus, ExporterError, RunRecord
from calibrax.exporters import _chart_sections, _numbers, _rows
from calibrax.exporters._protocol import typed_settings_of
from calibrax.exporters._settings import HtmlSettings, template_folder
from calibrax.exporters._templates import render_template

__all__ = ["MemberRow", "SweepCaseRow", "render_sweep_html", "sweep_context"]


@dataclass(frozen=True)
class MemberRow:
    """One member run of the sweep.

    Attributes:
        record: the run.
        axes: the value of each swept override in this run (empty text when it was not set).
        overrides: all of the run's overrides as one text.
        hardware: the hardware in words (backend, devices, CPU) and its fingerprint.
        cases_ok, cases: finished cases, of how many.
    """

    record: RunRecord
    axes: tuple[str, ...]
    overrides: str
    hardware: str
    fingerprint: str
    cases_ok: int
    cases: int

    @property
    def status(self) -> str:
        """The run's status as text."""
        return self.record.run.status.value


@dataclass(frozen=True)
class SweepCaseRow:
    """One case of one member, a row of the table of every case."""

    run_id: str
    view: _rows.CaseView


def _axes(records: Sequence[RunRecord], given: Sequence[str] | None) -> tuple[str, ...]:
    """The override keys whose values differ between members (or the ones given)."""
    if given is not None:
        return tuple(str(a) for a in given)
    keys = {o.split("=", 1)[0] for r in records for o in r.run.overrides if "=" in o}
    values: dict[str, set[str]] = {key: set() for key in keys}
    for record in records:
        pairs = dict(o.split("=", 1) for o in record.run.overrides if "=" in o)
        for key in keys:
            values[key].add(pairs.get(key, ""))
    return tuple(sorted(k for k, v in values.items() if len(v) > 1))


def _member(record: RunRecord, axes: Sequence[str]) -> MemberRow:
    pairs = dict(o.split("=", 1) for o in record.run.overrides if "=" in o)
    hw = record.run.hardware
    hardware = (f"{hw.backend}, {hw.device_count} × {hw.device_kind}, {hw.cpu_model} ({hw.cpu_count} cores)"
                if hw else _numbers.MISSING)
    ok = sum(c.status is CaseStatus.OK for c in record.cases)
    return MemberRow(record, tuple(pairs.get(a, "") for a in axes), " ".join(record.run.overrides),
                     hardware, hw.fingerprint if hw else "", ok, len(record.cases))


def _comparison(records: Sequence[RunRecord], measure: str, n_resamples: int) -> Comparison | None:
    """Speedups of the members over the first ok member, where two or more share a case."""
    ok = [r for r in records if any(c.status is CaseStatus.OK for c in r.cases)]
    if len(ok) < 2:
        return None
    comparison = compare_runs(ok, 0, measures=[measure], n_resamples=n_resamples)
    return comparison if comparison.rows else None


def sweep_context(sweep_id: str, records: Sequence[RunRecord], settings: HtmlSettings | Mapping[str, Any] | None = None,
                  axes: Sequence[str] | None = None) -> dict[str, Any]:
    """The variables ``sweep.html.j2`` gets, for users who write their own template.

    Args:
        sweep_id: the sweep's id.
        records: its member runs, in the order they ran.
        settings: the html exporter's settings (title, the chart options, ``n_resamples``).
        axes: the swept override keys, when the caller knows them better than the overrides tell.

    Raises:
        ExporterError: no member run, or a setting is invalid.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunRecord(RunInfo("r1", "", RunStatus.OK, sweep_id="s1"), ())
        >>> sweep_context("s1", [run])["members"][0].status
        'ok'
    """
    if not records:
        raise ExporterError(f"Sweep {sweep_id!r} has no member run to show.")
    options = _html_settings(settings)
    if axes is None and isinstance(settings, Mapping):  # older callers passed the axes among the settings
        axes = settings.get("axes")
    axes = _axes(records, axes)
    measure = options.scaling_measure
    members = [_member(r, axes) for r in records]
    rows = [SweepCaseRow(r.run.id, view) for r in records for view in _rows.case_views(r)]
    counts: dict[str, int] = {}
    for r in records:
        counts[r.run.status.value] = counts.get(r.run.status.value, 0) + 1
    return {
        "title": options.title or f"calibrax sweep {sweep_id}",
        "sweep_id": sweep_id,
        "axes": axes,
        "members": members,
        "run_counts": sorted(counts.items()),
        "rows": rows,
        "comparison": _comparison(records, measure, options.n_resamples),
        "measure": measure,
        "charts": _chart_sections.chart_sections(records, options),
        "speedup": _speedup_text,
    }


def _html_settings(settings: HtmlSettings | Mapping[str, Any] | None) -> HtmlSettings:
    typed: HtmlSettings = typed_settings_of(HtmlSettings, "html", settings, ("baseline", "report_data", "axes"))
    return typed


def _speedup_text(entry: Any) -> str:
    """A comparison entry as ``1.23× [1.20, 1.26]`` (``reference`` for the reference run)."""
    if entry.ci_method == "reference":
        return "reference"
    text = _numbers.format_ratio(entry.speedup)
    if entry.ci_low == entry.ci_low and entry.ci_high == entry.ci_high:  # not NaN
        text += f" [{entry.ci_low:.3g}, {entry.ci_high:.3g}]"
    return text


def render_sweep_html(sweep_id: str, records: Sequence[RunRecord], settings: HtmlSettings | Mapping[str, Any] | None = None,
                      axes: Sequence[str] | None = None) -> str:
    """Return the self-contained HTML page of a sweep.

    Args:
        sweep_id: the sweep's id.
        records: its member runs, in the order they ran.
        settings: the html exporter's settings (``title``, ``template_dir`` whose
            ``sweep.html.j2`` replaces the shipped one, the chart options).
        axes: the swept override keys (default: those whose values differ between members).

    Raises:
        ExporterError: no member run, or a setting is invalid.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunRecord(RunInfo("r1", "", RunStatus.OK, sweep_id="s1"), ())
        >>> "<title>calibrax sweep s1</title>" in render_sweep_html("s1", [run])
        True
    """
    context = sweep_context(sweep_id, records, settings, axes)
    return render_template("sweep.html.j2", template_folder(_html_settings(settings).template_dir), **context)
