r"""The ``latex`` exporter: booktabs tables of a run for a paper, standalone or as a fragment.

By default each benchmark gets a table of its own (``split: benchmark``): one row per case,
one column per param and one per measure (at most ``max_columns`` measures a table; more go
to a continued table), every measure column in one unit chosen for it (ms, GFLOP/s, MiB), at
the document's ``\small`` size, never shrunk to fit. A value is the median with its 95%
confidence interval: ``±`` half its width when the interval is symmetric and
``median^{+a}_{-b}`` when it is not (``uncertainty: pm``), or ``[low, high]``
(``uncertainty: ci``). The best value of a column is bold, lowest or highest as the
measure's direction says, compared only among comparable rows: cases of one benchmark with
the same numeric params (sizes), so variants of one problem compete and different sizes or
benchmarks never do (``best: benchmark`` compares all of a benchmark's cases). A verdict table follows when the run was checked, titled by what it was checked
against. Only standard LaTeX packages are used (booktabs, longtable, geometry), so the
standalone document compiles with a plain ``pdflatex``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibrax.core import CaseResult, CaseStatus, Direction, ExporterError, RunRecord, measure_for
from calibrax.exporters import _tex, _text
from calibrax.exporters._protocol import BaseExporter, typed_settings_of
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._rows import verdict_views
from calibrax.exporters._settings import LatexSettings, template_folder
from calibrax.exporters._templates import render_template

__all__ = ["LatexColumn", "LatexExporter", "LatexRow", "LatexTable", "latex_context"]

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
    """A case as a table row, all LaTeX: its leading cells (the benchmark and params, or one
    cell per param in a per-benchmark table), one cell per measure column, and the status
    text of a case that did not end ok (shown across the measure columns)."""

    lead: tuple[str, ...]
    cells: tuple[str, ...]
    failed: str


@dataclass(frozen=True)
class LatexTable:
    """One table of the report: caption, label, column spec, header cells and rows (LaTeX)."""

    caption: str
    label: str
    colspec: str
    headers: tuple[str, ...]
    columns: tuple[LatexColumn, ...]
    rows: tuple[LatexRow, ...]
    long: bool


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

    ``tables`` are :class:`LatexTable` records (one per benchmark by default); ``verdicts``
    the verdict rows with their ``verdict_caption``; ``facts`` lines about the run.

    Raises:
        ExporterError: a setting has a value outside its allowed ones.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r_1", started_at="", status=RunStatus.OK), cases=())
        >>> context = latex_context(record, {"mode": "fragment"})
        >>> context["standalone"], context["label"], context["tables"]
        (False, 'tab:calibrax-r-1', [])
    """
    options = typed_settings_of(LatexSettings, "latex", settings)
    label = str(options.label or f"tab:calibrax-{_label_part(record.run.id)}")
    tables = _tables(record, options, label)
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
        "long": any(t.long for t in tables),
        "title": _tex.tex_escape(options.title or f"calibrax run {run.id}"),
        "facts": _facts(record),
        "label": label,
        "tables": tables,
        "verdicts": verdicts,
        "verdict_caption": _verdict_caption(record),
        "verdict_label": f"{label}-verdicts",
    }


def _tables(record: RunRecord, options: LatexSettings, label: str) -> list[LatexTable]:
    """The report's tables: one per benchmark (or one for the run), measures chunked."""
    if options.split == "none":
        groups = [("", list(range(len(record.cases))))]
    else:
        order: dict[str, list[int]] = {}
        for i, case in enumerate(record.cases):
            order.setdefault(case.benchmark, []).append(i)
        groups = list(order.items())
    tables = []
    for bench, members in groups:
        cases = [record.cases[i] for i in members]
        columns = _columns(cases, options.measures) or _columns(cases, ["time"])  # failed rows span it
        params = [] if not bench else list(dict.fromkeys(k for c in cases for k in c.params))
        chunks = [columns[i:i + options.max_columns] for i in range(0, len(columns), options.max_columns)] or [[]]
        for part, chunk in enumerate(chunks):
            tables.append(_table(record, bench, cases, params, chunk, options, label, part, len(chunks)))
    return tables


def _table(record: RunRecord, bench: str, cases: Sequence[CaseResult], params: Sequence[str],
           columns: Sequence[LatexColumn], options: LatexSettings, label: str, part: int, parts: int) -> LatexTable:
    winners = _best_cells(cases, columns, options.best)
    rows = []
    for i, case in enumerate(cases):
        failed = "" if case.status is CaseStatus.OK else _tex.tex_escape(case.status.value)
        cells = tuple(_cell(case, column, options.uncertainty, bold=(i, column.measure) in winners)
                      for column in columns)
        if bench and not params:  # a benchmark without params: its name leads its one row
            lead: tuple[str, ...] = (_tex.tex_escape(case.benchmark),)
        elif bench:
            lead = tuple(_tex.tex_escape(_text.format_params({k: case.params[k]}).partition("=")[2])
                         if k in case.params else "--" for k in params)
        else:
            lead = (_tex.tex_escape(case.benchmark), _tex.tex_escape(_text.format_params(case.params)))
        rows.append(LatexRow(lead, cells, failed))
    heads = tuple(_tex.tex_escape(k) for k in params) if bench and params else ("Benchmark",) if bench else (
        "Benchmark", "Params")
    environment = options.environment
    if environment == "auto":
        environment = "longtable" if len(rows) > _LONG_ROWS else "table"
    suffix = f"-{_label_part(bench)}" if bench else ""
    suffix += f"-{part + 1}" if parts > 1 else ""
    return LatexTable(
        caption=_caption(record, bench, options, part, parts),
        label=label + suffix,
        colspec="l" * len(heads) + "r" * len(columns),
        headers=heads + tuple(c.header for c in columns),
        columns=tuple(columns),
        rows=tuple(rows),
        long=environment == "longtable",
    )


def _verdict_caption(record: RunRecord) -> str:
    """What the verdicts compared with: the named baseline, a run, a git ref, or thresholds."""
    base = dict(record.baseline)
    if base.get("name"):
        against = f"the baseline {base['name']}" + (f" (run {base['run_id']})" if base.get("run_id") else "")
    elif base.get("run_id"):
        against = f"run {base['run_id']}"
    else:
        return "Verdicts of the absolute thresholds, violations first."
    return _tex.tex_escape(f"Verdicts against {against}, regressions first; ratio is candidate over baseline.")


def _label_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9:.-]+", "-", text).strip("-") or "run"


def _columns(cases: Sequence[CaseResult], chosen: Any) -> list[LatexColumn]:
    """One column per chosen measure these cases have (by default every directed measure,
    first seen first)."""
    seen: dict[str, tuple[str, Direction]] = {}
    for case in cases:
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
        names = [n for n in dict.fromkeys(chosen) if n in seen] or list(dict.fromkeys(chosen))
    columns = []
    for name in names:
        standard = measure_for(name)
        unit, direction = seen.get(name, (standard.unit, standard.direction))
        medians = [m for m in (_median(c, name) for c in cases) if m is not None]
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


def _comparable_key(case: CaseResult, best: str) -> tuple[Any, ...]:
    """Which rows compete for bold: ``column`` compares the cases of one benchmark that share
    every numeric param (the same problem size, other variants); ``benchmark`` all its cases."""
    if best == "benchmark":
        return (case.benchmark,)
    sizes = tuple(sorted((k, v) for k, v in case.params.items()
                         if isinstance(v, int | float) and not isinstance(v, bool)))
    return (case.benchmark, sizes)


def _best_cells(cases: Sequence[CaseResult], columns: Sequence[LatexColumn], best: str) -> set[tuple[int, str]]:
    """The (case index, measure) cells to set in bold: the best of a column among comparable
    rows (see :func:`_comparable_key`); a row with nothing to compete with is never bold."""
    winners: set[tuple[int, str]] = set()
    if best == "none":
        return winners
    for column in columns:
        if column.direction is Direction.INFO:
            continue
        groups: dict[tuple[Any, ...], list[tuple[int, float]]] = {}
        for i, case in enumerate(cases):
            median = _median(case, column.measure)
            if median is not None:
                groups.setdefault(_comparable_key(case, best), []).append((i, median))
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
    if spread and uncertainty == "pm" and _symmetric(low, median, high, decimals):
        half = (high - low) / 2
        while round(half, decimals) == 0 and decimals < _tex.number_decimals(median) + 2:
            decimals += 1
        text = (
            f"{_tex.format_number(median, decimals=decimals)}\\,$\\pm$\\,"
            f"{_tex.format_number(half, decimals=decimals)}"
        )
    elif spread and uncertainty == "pm":  # an asymmetric interval keeps both of its arms
        up, down = max(high - median, 0.0), max(median - low, 0.0)
        while (round(up, decimals) == 0 or round(down, decimals) == 0) and decimals < _tex.number_decimals(median) + 2:
            decimals += 1
        text = (
            f"{_tex.format_number(median, decimals=decimals)}$^{{+{_tex.format_number(up, decimals=decimals)}}}"
            f"_{{-{_tex.format_number(down, decimals=decimals)}}}$"
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


def _symmetric(low: float, median: float, high: float, decimals: int) -> bool:
    """An interval whose arms read the same at the shown precision, or differ by under a
    tenth of its width, reads fine as ``±``."""
    up, down = high - median, median - low
    return round(up, decimals) == round(down, decimals) or abs(up - down) <= 0.1 * (high - low)


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


def _caption(record: RunRecord, bench: str, options: LatexSettings, part: int, parts: int) -> str:
    run = record.run
    if options.caption:
        head = _tex.tex_escape(options.caption)
        return f"{head} ({_tex.tex_escape(bench)})" if bench and not head.endswith(".") else head
    where = f" on {run.hardware.cpu_model if run.hardware.backend == 'cpu' else run.hardware.device_kind}" if run.hardware else ""
    how = (
        "median $\\pm$ half the width of its 95\\% confidence interval (median$^{+a}_{-b}$ where the "
        "interval is not symmetric)"
        if options.uncertainty == "pm"
        else "median [95\\% confidence interval]"
    )
    bold = {"column": " Bold: the best value of a column among cases of the same sizes.",
            "benchmark": " Bold: the best value of a column among the benchmark's cases.", "none": ""}[options.best]
    what = f"\\texttt{{{_tex.tex_escape(bench)}}}, " if bench else ""
    cont = f" (part {part + 1} of {parts})" if parts > 1 else ""
    return f"{what}calibrax run {_tex.tex_escape(run.id)}{_tex.tex_escape(where)}{cont}: {how}.{bold}"


EXPORTERS.register(LatexExporter.name, LatexExporter())
