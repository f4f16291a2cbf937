"""The ``latex`` exporter: booktabs tables of a run for a paper, standalone or as a fragment.

The table has one row per case and one column per measure, every column in one unit chosen
for it (ms, GFLOP/s, MiB); a value is the median with its 95% confidence interval, as ``±``
half its width or as ``[low, high]``; the best value of each column is bold, lowest or highest
as the measure's direction says. A second table lists the verdicts when the run was checked.
Only standard LaTeX packages are used (booktabs, longtable, graphicx, geometry), so the
standalone document compiles with a plain ``pdflatex``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from calibrax.core import CaseResult, CaseStatus, Direction, ExporterError, RunRecord
from calibrax.exporters import _tex, _text
from calibrax.exporters._protocol import BaseExporter, typed_settings_of
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._rows import verdict_views
from calibrax.exporters._settings import LatexSettings, template_folder
from calibrax.exporters._templates import render_template

__all__ = ["LatexColumn", "LatexExporter", "LatexRow", "latex_context"]

Best = Literal["column", "benchmark", "none"]
_LONG_ROWS = 30  # "auto" switches to a page-breaking longtable above this many rows


@dataclass(frozen=True)
class LatexColumn:
    """A measure column: its name, header (LaTeX) and the unit its values are shown in."""

    measure: str
    header: str
    scale: _tex.ColumnScale
    direction: Direction


@dataclass(frozen=True)
class LatexRow:
    """A case as a table row: the benchmark, the params and one cell per column, all LaTeX."""

    benchmark: str
    params: str
    cells: tuple[str, ...]
    failed: str


class LatexExporter(BaseExporter[LatexSettings]):
    """Writes ``report.tex``: a compilable article (``standalone``) or a table to ``\\input``.

    Its settings are :class:`~calibrax.exporters.LatexSettings`: ``fragment`` mode needs
    ``booktabs``, ``graphicx`` and, for long tables, ``longtable`` in the paper's preamble.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> text = LatexExporter().render(record)
        >>> text.splitlines()[1], text.rstrip().splitlines()[-1]
        ('\\\\documentclass[10pt]{article}', '\\\\end{document}')
    """

    name = "latex"
    filename = "report.tex"
    settings_type = LatexSettings
    definition_key = "calibrax.exporters.latex.LatexExporter"

    def render_report(self, report: ReportInput, settings: LatexSettings, folder: Path | None = None) -> str:
        """Return the LaTeX source of the run."""
        context = latex_context(report.record, settings)
        return render_template("report.tex.j2", template_folder(settings.template_dir), **context)


def latex_context(record: RunRecord, settings: LatexSettings | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The variables ``report.tex.j2`` gets (see :class:`LatexExporter` for ``settings``).

    Raises:
        ExporterError: a setting has a value outside its allowed ones.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r_1", started_at="", status=RunStatus.OK), cases=())
        >>> context = latex_context(record, {"mode": "fragment"})
        >>> context["standalone"], context["label"], context["rows"]
        (False, 'tab:calibrax-r-1', [])
    """
    options = typed_settings_of(LatexSettings, "latex", settings)
    uncertainty, best, environment = options.uncertainty, options.best, options.environment
    columns = _columns(record, options.measures)
    rows = _rows(record, columns, uncertainty, best)  # type: ignore[arg-type]
    if environment == "auto":
        environment = "longtable" if len(rows) > _LONG_ROWS else "table"
    regressed, others = verdict_views(record)
    verdicts = [
        tuple(
            _tex.tex_escape(text)
            for text in (
                v.benchmark, v.params, v.measure, v.baseline_text, v.candidate_text,
                v.ratio_text, v.kind,
            )
        )
        for v in regressed + others
    ]
    run = record.run
    return {
        "record": record,
        "standalone": options.mode == "standalone",
        "long": environment == "longtable",
        "title": _tex.tex_escape(options.title or f"calibrax run {run.id}"),
        "facts": _facts(record),
        "caption": _tex.tex_escape(options.caption) if options.caption else _caption(record, uncertainty, best),
        "label": str(options.label or f"tab:calibrax-{_label_part(run.id)}"),
        "colspec": "ll" + "r" * len(columns),
        "headers": ["Benchmark", "Params"] + [c.header for c in columns],
        "columns": columns,
        "rows": rows,
        "verdicts": verdicts,
        "verdict_label": f"tab:calibrax-{_label_part(run.id)}-verdicts",
    }


def _label_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9:.-]+", "-", text).strip("-") or "run"


def _columns(record: RunRecord, chosen: Any) -> list[LatexColumn]:
    """One column per chosen measure (by default every directed measure, first seen first)."""
    seen: dict[str, tuple[str, Direction]] = {}
    for case in record.cases:
        for name, result in case.measures.items():
            seen.setdefault(name, (result.measure.unit, result.measure.direction))
    if chosen is None:
        names = [n for n, (_, direction) in seen.items() if direction is not Direction.INFO]
    elif isinstance(chosen, str) or not all(isinstance(n, str) for n in chosen):
        raise ExporterError(
            f"The latex exporter's measures setting must be a list of measure names such as "
            f"[time, compile_time], got {chosen!r}."
        )
    else:
        names = list(dict.fromkeys(chosen))
    columns = []
    for name in names:
        unit, direction = seen.get(name, ("1", Direction.INFO))
        medians = [m for m in (_median(c, name) for c in record.cases) if m is not None]
        scale = _tex.column_scale(medians, unit)
        unit_text = f" ({scale.unit})" if scale.unit else ""
        columns.append(LatexColumn(name, _tex.tex_escape(name) + unit_text, scale, direction))
    return columns


def _median(case: CaseResult, measure: str) -> float | None:
    result = case.measures.get(measure)
    if case.status is not CaseStatus.OK or result is None or result.summary is None:
        return None
    median = result.summary.median
    return median if math.isfinite(median) else None


def _rows(record: RunRecord, columns: Sequence[LatexColumn], uncertainty: str, best: Best) -> list[LatexRow]:
    winners = _best_cells(record, columns, best)
    rows = []
    for i, case in enumerate(record.cases):
        failed = "" if case.status is CaseStatus.OK else _tex.tex_escape(case.status.value)
        cells = tuple(
            _cell(case, column, uncertainty, bold=(i, column.measure) in winners)
            for column in columns
        )
        rows.append(
            LatexRow(
                _tex.tex_escape(case.benchmark),
                _tex.tex_escape(_text.format_params(case.params)),
                cells,
                failed,
            )
        )
    return rows


def _best_cells(record: RunRecord, columns: Sequence[LatexColumn], best: Best) -> set[tuple[int, str]]:
    """The (case index, measure) cells to set in bold."""
    winners: set[tuple[int, str]] = set()
    if best == "none":
        return winners
    for column in columns:
        if column.direction is Direction.INFO:
            continue
        groups: dict[str, list[tuple[int, float]]] = {}
        for i, case in enumerate(record.cases):
            median = _median(case, column.measure)
            if median is not None:
                group = case.benchmark if best == "benchmark" else ""
                groups.setdefault(group, []).append((i, median))
        for members in groups.values():
            if len(members) < 2:
                continue  # the only value of a group is not "best" of anything
            pick = min if column.direction is Direction.LOWER else max
            target = pick(m for _, m in members)
            winners.update((i, column.measure) for i, m in members if m == target)
    return winners


def _cell(case: CaseResult, column: LatexColumn, uncertainty: str, bold: bool) -> str:
    result = case.measures.get(column.measure)
    summary = result.summary if result else None
    if summary is None or not math.isfinite(summary.median):
        return "--"
    scale = column.scale.scale
    median = summary.median / scale
    decimals = _tex.number_decimals(median)
    low, high = summary.ci_low / scale, summary.ci_high / scale
    spread = math.isfinite(low) and math.isfinite(high) and summary.n > 1 and high > low
    if spread and uncertainty == "pm":
        half = (high - low) / 2
        while round(half, decimals) == 0 and decimals < _tex.number_decimals(median) + 2:
            decimals += 1
        text = (
            f"{_tex.format_number(median, decimals=decimals)}\\,$\\pm$\\,"
            f"{_tex.format_number(half, decimals=decimals)}"
        )
    elif spread:
        text = (
            f"{_tex.format_number(median, decimals=decimals)} "
            f"[{_tex.format_number(low, decimals=decimals)}, "
            f"{_tex.format_number(high, decimals=decimals)}]"
        )
    else:
        text = _tex.format_number(median, decimals=decimals)
    return f"\\textbf{{{text}}}" if bold else text


def _facts(record: RunRecord) -> list[str]:
    """Lines about the run for the standalone document, LaTeX-escaped."""
    run = record.run
    facts = [f"Run {run.id} ({run.status.value}), started {run.started_at or 'at an unknown time'}."]
    if run.git.commit:
        dirty = ", with uncommitted changes" if run.git.dirty else ""
        facts.append(f"Git commit {run.git.commit[:12]} on {run.git.branch or 'no branch'}{dirty}.")
    if run.hardware is not None:
        hw = run.hardware
        facts.append(
            f"Hardware: {hw.backend}, {hw.device_count} x {hw.device_kind}; {hw.cpu_model}, "
            f"{hw.cpu_count} cores; {hw.platform}; Python {hw.python}."
        )
    if record.baseline:
        facts.append(
            "Baseline: " + ", ".join(f"{k} {v}" for k, v in record.baseline.items()) + "."
        )
    return [_tex.tex_escape(line) for line in facts]


def _caption(record: RunRecord, uncertainty: str, best: str) -> str:
    run = record.run
    where = f" on {run.hardware.cpu_model if run.hardware.backend == 'cpu' else run.hardware.device_kind}" if run.hardware else ""
    how = (
        "median $\\pm$ half the width of its 95\\% confidence interval"
        if uncertainty == "pm"
        else "median [95\\% confidence interval]"
    )
    bold = {
        "column": " Bold: the best value of each column.",
        "benchmark": " Bold: the best value of each benchmark in each column.",
        "none": "",
    }[best]
    return f"calibrax run {_tex.tex_escape(run.id)}{_tex.tex_escape(where)}: {how}.{bold}"


EXPORTERS.register(LatexExporter.name, LatexExporter())
