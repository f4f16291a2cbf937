"""The ``html`` exporter: one self-contained ``index.html`` per run.

The page needs no network: styles and the small script are inline, and a
Content-Security-Policy forbids every fetch. The run-level charts (roofline, Pareto, scaling)
are inline SVG; the per-case charts (samples, baseline samples, history) are compact data in one
JSON block that the script draws as SVG when the page loads (see :mod:`._page_charts`), which
keeps a run of thousands of cases a few megabytes. Every value from the record goes through
Jinja2's autoescape, or JSON with ``<``, ``>`` and ``&`` escaped.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from calibrax.core import MISSING, CaseResult, RunRecord, format_value, run_info_to_dict
from calibrax.exporters import _chart_sections, _checks, _history, _numbers, _page_charts, _rows, _trials
from calibrax.exporters._protocol import BaseExporter, as_report_input
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import HistoryQuery, ReportInput
from calibrax.exporters._settings import HtmlSettings, template_folder
from calibrax.exporters._templates import render_template
from calibrax.exporters.sweep_page import render_sweep_html

__all__ = [
    "CaseSection",
    "HtmlExporter",
    "MeasureLine",
    "SummaryColumn",
    "html_context",
    "shared_domain",
    "summary_columns",
]

def shared_domain(*groups: Sequence[float]) -> tuple[float, float] | None:
    """One x range that holds every finite value of every group (None when there is none).

    Example:
        >>> lo, hi = shared_domain([1.0, 2.0], [3.0])
        >>> lo < 1.0 and hi > 3.0
        True
    """
    values = [float(v) for group in groups for v in group if math.isfinite(v)]
    return _page_charts.sample_domain(values) if values else None


@dataclass(frozen=True)
class MeasureLine:
    """One measure of a case in its detail table, formatted with its unit."""

    name: str
    unit: str
    median: str
    ci: str
    n: int


@dataclass(frozen=True)
class CaseSection:
    """A case in the HTML report: its table row, its charts' data and its measures.

    The page's script draws the charts from :meth:`chart_json` (one entry per case in the
    page's JSON block, keyed by ``anchor``).

    Attributes:
        row: the formatted row shared with the Markdown report.
        anchor: the HTML id of its detail section.
        chart: the strip plot of its ``time`` samples, None without any.
        measures: every measure of the case.
        baseline_chart: the baseline run's ``time`` samples of the same case, on the same
            axis as ``chart``; None without a baseline record or without samples there.
        history: the case's median over past runs on the same hardware, with changepoints;
            None without ``report_data`` or with fewer than two runs of history.
        trial_chart: both sides' trial values of an interleaved gate on one axis, in trial
            order (then no ``baseline_chart``: the baseline's samples are trial values, not
            samples comparable with this run's).
    """

    row: _rows.CaseView
    anchor: str
    chart: _page_charts.StripData | None
    measures: tuple[MeasureLine, ...]
    baseline_chart: _page_charts.StripData | None = None
    history: _history.HistoryChart | None = None
    trial_chart: _trials.TrialData | None = None

    def chart_json(self) -> dict[str, Any]:
        """The charts' compact data: ``s`` this run's samples, ``b`` the baseline's (its ticks
        left out when the axis is shared), ``t`` the interleaved gate's trials, ``h`` the
        history; each only when drawn."""
        out: dict[str, Any] = {}
        if self.trial_chart is not None:
            out["t"] = self.trial_chart.to_json()
        if self.chart is not None:
            out["s"] = self.chart.to_json()
        if self.baseline_chart is not None:
            shared = self.chart is not None and self.chart.ticks == self.baseline_chart.ticks
            out["b"] = self.baseline_chart.to_json(shared_ticks=shared)
        if self.history is not None:
            out["h"] = self.history.data.to_json()
        return out


class HtmlExporter(BaseExporter[HtmlSettings]):
    """Writes ``index.html`` from the ``report.html.j2`` template, and renders a sweep's page.

    It needs the whole stored context: each case's samples are drawn beside the baseline's on
    one axis, each case gets its history chart (changepoints marked), and the run's alerts and
    validation checks are listed; a report input without them says the report was made without
    the store. Its settings are :class:`~calibrax.exporters.HtmlSettings`.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> "<title>calibrax run r1</title>" in HtmlExporter().render(record)
        True
    """

    name = "html"
    filename = "index.html"
    needs = frozenset({"baseline", "history", "alerts", "validation", "trials"})
    entry = True
    renders_sweeps = True
    settings_type = HtmlSettings
    definition_key = "calibrax.exporters.html.HtmlExporter"

    def render_report(self, report: ReportInput, settings: HtmlSettings, folder: Path | None = None) -> str:
        """Return the HTML report of ``report``."""
        with _collector_paused():
            context = html_context(report, settings.title or f"calibrax run {report.run_id}", settings)
            return render_template("report.html.j2", template_folder(settings.template_dir), **context)

    def history_query(self, settings: HtmlSettings) -> HistoryQuery:
        """The history of the scaling measure over ``history_runs`` runs."""
        return HistoryQuery(settings.history_runs, settings.scaling_measure)

    def render_sweep(self, sweep_id: str, records: Sequence[RunRecord], settings: HtmlSettings | None = None,
                     axes: Sequence[str] | None = None, folder: Path | None = None) -> str:
        """Return the sweep's page (see :func:`~calibrax.exporters.render_sweep_html`); a file
        exporter, it writes nothing into ``folder``."""
        return render_sweep_html(sweep_id, records, settings, axes)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block, then as it was.

    A run report builds some 10^5 objects (rows, chart data, template output) that all live
    until the page is written; they push the collector into a full pass over the whole heap
    (the records, the history, every loaded module) that frees nothing: 0.14 s of a 1 s render
    of 1,000 cases. Reference counting still frees everything else meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def html_context(report: ReportInput | RunRecord, title: str, settings: HtmlSettings | None = None) -> dict[str, Any]:
    """The variables ``report.html.j2`` gets, for users who write their own template.

    ``baseline_run`` is the baseline record's run (None without one); ``environment_json`` the
    git state, hardware, library versions and overrides; ``config_json`` the resolved config;
    ``charts`` the roofline, Pareto and scaling charts; ``report_data`` the stored context
    (None when the report input holds none), shown as ``alerts`` and ``validation`` rows and
    each case's ``history``; ``chart_json`` the per-case charts' data for the page's script
    (JSON safe to put in a ``<script type="application/json">`` as it is).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> html_context(record, "t")["cases"]
        []
    """
    report = as_report_input(report)
    options = (settings or HtmlSettings()).check()
    record, baseline = report.record, report.baseline
    baseline_cases = {case.key: case for case in baseline.cases} if baseline else {}
    histories = _history.history_charts(report, options)
    trials, names = _trials.trials_by_case(report.trials), _trial_names(baseline)
    rows = _rows.case_views(record)
    keys = [row.case.key for row in rows]
    strips = _page_charts.strip_pairs([_strip_samples(row.case, None if key in trials else baseline_cases.get(key))
                                       for row, key in zip(rows, keys, strict=True)])
    sections = [_section(row, strip, histories.get(key), trials.get(key, ()), names)
                for row, key, strip in zip(rows, keys, strips, strict=True)]
    columns = summary_columns(record)
    return {
        "title": title,
        "record": record,
        "run": record.run,
        "outcome": _rows.run_outcome(record, report.validation, report.validation_gate),
        "summary_columns": columns,
        "summary_cells": {section.anchor: _summary_cells(section.row.case, columns) for section in sections},
        "hardware": record.run.hardware,
        "counts": [(status, n) for status, n in record.counts.items() if n],
        "verdict_counts": _rows.verdict_counts(record),
        "verdicts_per_measure": _rows.verdict_counts_by_measure(record),
        "baseline": dict(record.baseline),
        "cases": sections,
        "baseline_run": baseline.run if baseline else None,
        "config_json": json.dumps(dict(record.run.config), indent=2, sort_keys=True, default=str),
        "environment_json": json.dumps(_environment(record), indent=2, default=str),
        "charts": _chart_sections.chart_sections([record], options),
        "report_data": report.stored_context(),
        "history_count": len(histories),
        "chart_json": Markup(_page_charts.page_json(
            {section.anchor: data for section in sections if (data := section.chart_json())},
            report.history_measure)),
        "alerts": _checks.alert_views(report.alerts, record.run.id) if report.alerts else [],
        "validation": _checks.validation_views(report.validation) if report.validation else [],
    }


@dataclass(frozen=True)
class SummaryColumn:
    """A measure shown as a column of the cases table: a declared quality metric, or
    ``throughput`` in the unit its benchmark declares (``tokens/s``)."""

    measure: str
    header: str


def summary_columns(record: RunRecord) -> list[SummaryColumn]:
    """The cases table's extra columns: every quality metric the run's benchmarks declare (as
    the stored config's ``plan`` lists them), then throughput when a case has it.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK, config={"plan": {"quality_metrics": {"b": ["accuracy"]}}})
        >>> [c.header for c in summary_columns(RunRecord(run, ()))]
        ['accuracy']
    """
    plan = record.run.config.get("plan") or {}
    declared = plan.get("quality_metrics") or {} if isinstance(plan, dict) else {}
    names = list(dict.fromkeys(name for names in declared.values() for name in names))
    columns = [SummaryColumn(name, name) for name in names]
    units = list(dict.fromkeys(c.measures["throughput"].measure.unit for c in record.cases if "throughput" in c.measures))
    if units:
        columns.append(SummaryColumn("throughput", f"Throughput ({units[0]})" if len(units) == 1 else "Throughput"))
    return columns


def _summary_cells(case: CaseResult, columns: Sequence[SummaryColumn]) -> list[tuple[str, str]]:
    """(sort key, text) per summary column: the median, with its unit where the header has none."""
    cells = []
    for column in columns:
        result = case.measures.get(column.measure)
        summary = result.summary if result else None
        value = summary.median if summary else (result.samples[0] if result and result.samples else None)
        if value is None:
            cells.append(("", MISSING))
            continue
        unit = result.measure.unit if result else "1"
        text = format_value(value, "1" if column.header.endswith(f"({unit})") else unit)
        cells.append((f"{value:.6g}", text))
    return cells


def _environment(record: RunRecord) -> dict[str, Any]:
    """Where and how the run was made: git, hardware (with versions), overrides, sweep."""
    run = record.run
    info = run_info_to_dict(run)
    return {key: info[key] for key in ("git", "hardware", "overrides", "sweep_id")}


def _trial_names(baseline: RunRecord | None) -> dict[str, str]:
    """The trial chart's legend (the baseline commit's ref and sha, and this run) and what each
    trial's value is (``ci.trial_statistic`` as the gate stored it; gates stored before it was
    recorded judged trial values)."""
    commit = baseline.run.git.commit if baseline is not None else None
    if baseline is None or not commit:
        return {"candidate": "candidate (this run)"}
    gate = baseline.run.config.get("interleaved")
    statistic = gate.get("trial_statistic", "median") if isinstance(gate, dict) else "median"
    ref = f"{baseline.run.git.branch} " if baseline.run.git.branch else ""
    return {"baseline": f"baseline {ref}({commit[:10]})", "candidate": "candidate (this run)",
            "value": "best round" if statistic == "best" else "median round"}


def _strip_samples(case: CaseResult, baseline: CaseResult | None) -> tuple[Sequence[float], Sequence[float], str]:
    """The ``time`` samples of a case and of its baseline case (none without one), and their unit."""
    time = case.measures.get("time")
    base_time = baseline.measures.get("time") if baseline else None
    return (time.samples if time else (), base_time.samples if base_time else (),
            time.measure.unit if time else "s")


def _section(row: _rows.CaseView, strips: tuple[_page_charts.StripData | None, _page_charts.StripData | None],
             history: _history.HistoryChart | None = None, trials: Sequence[_trials.TrialValue] = (),
             names: dict[str, str] | None = None) -> CaseSection:
    """A case's section, with its strip plot and its baseline's (:func:`_page_charts.strip_pairs`)."""
    time = row.case.measures.get("time")
    unit = time.measure.unit if time else "s"
    return CaseSection(
        row=row,
        anchor=f"case-{row.index}",
        chart=strips[0],
        measures=_measure_lines(row.case),
        baseline_chart=strips[1],
        history=history,
        trial_chart=_trials.trial_data(trials, unit, names) if trials else None,
    )


def _measure_lines(case: CaseResult) -> tuple[MeasureLine, ...]:
    lines = []
    for name, result in case.measures.items():
        unit, summary = result.measure.unit, result.summary
        lines.append(
            MeasureLine(
                name=name,
                unit=unit,
                median=_numbers.format_value(summary.median if summary else None, unit),
                ci=_numbers.format_interval(summary.ci_low, summary.ci_high, unit)
                if summary
                else _numbers.MISSING,
                n=summary.n if summary else len(result.samples),
            )
        )
    return tuple(lines)


EXPORTERS.register(HtmlExporter.name, HtmlExporter())
