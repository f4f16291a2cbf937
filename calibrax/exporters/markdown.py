"""The ``markdown`` exporter: a summary sized for a CI step summary or a pull-request comment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from calibrax.core import RunRecord, RunStatus, ValidationEntry
from calibrax.exporters import _rows
from calibrax.exporters._protocol import BaseExporter
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import MarkdownSettings, template_folder
from calibrax.exporters._templates import render_template

__all__ = ["MarkdownExporter", "markdown_context"]

_STATUS_ICONS = {
    RunStatus.OK: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.INTERRUPTED: "⚠️",
    RunStatus.RUNNING: "⏳",
}


class MarkdownExporter(BaseExporter[MarkdownSettings]):
    """Writes ``summary.md`` from the ``summary.md.j2`` template.

    The summary has a title line with the run id and status, the verdict counts, the regressed
    cases in their own table ahead of everything else, the other verdicts and the failed cases,
    then every case in a collapsed ``<details>`` block. User text in table cells is escaped
    (``|``, newlines, Markdown markup, HTML).

    Its settings are :class:`~calibrax.exporters.MarkdownSettings`.

    Example:
        >>> from calibrax.core import RunInfo
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> MarkdownExporter().render(record).splitlines()[0]
        '## ✅ calibrax run `r1`: ok'
    """

    name = "markdown"
    filename = "summary.md"
    needs = frozenset({"validation"})
    settings_type = MarkdownSettings
    definition_key = "calibrax.exporters.markdown.MarkdownExporter"

    def render_report(self, report: ReportInput, settings: MarkdownSettings, folder: Path | None = None) -> str:
        """Return the Markdown summary of the run."""
        return render_template("summary.md.j2", template_folder(settings.template_dir),
                               **markdown_context(report.record, report.validation, report.validation_gate))


def markdown_context(record: RunRecord, validation: Sequence[ValidationEntry] | None = None,
                     validation_gate: bool = False) -> dict[str, Any]:
    """The variables ``summary.md.j2`` gets, for users who write their own template.

    ``record`` is the run itself; ``cases``, ``regressed``, ``other_verdicts`` and ``failed``
    are rows with formatted values (see :mod:`calibrax.exporters._rows`); ``outcome`` is what
    the exit code says (the title's mark and words follow it, so a failing gate never starts
    with a green mark); ``verdicts_per_measure`` counts verdicts per measure.

    Example:
        >>> from calibrax.core import RunInfo
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> sorted(markdown_context(record))[:3]
        ['baseline', 'cases', 'counts']
    """
    cases = _rows.case_views(record)
    regressed, others = _rows.verdict_views(record)
    outcome = _rows.run_outcome(record, validation, validation_gate)
    icon = _STATUS_ICONS.get(record.run.status, "")
    if not outcome.passed and record.run.status is RunStatus.OK:
        icon = _STATUS_ICONS[RunStatus.FAILED]
    return {
        "record": record,
        "run": record.run,
        "outcome": outcome,
        "icon": icon,
        "verdicts_per_measure": _rows.verdict_counts_by_measure(record),
        "counts": [(status, n) for status, n in record.counts.items() if n],
        "hardware": _hardware_line(record),
        "verdict_counts": _rows.verdict_counts(record),
        "baseline": dict(record.baseline),
        "regressed": regressed,
        "other_verdicts": others,
        "failed": [case for case in cases if case.failed],
        "cases": cases,
    }


def _hardware_line(record: RunRecord) -> str:
    """One line naming the machine: backend, devices, CPU model and cores."""
    hw = record.run.hardware
    if hw is None:
        return ""
    devices = f"{hw.device_count} × {hw.device_kind}" if hw.device_kind else hw.backend
    return f"{hw.backend} ({devices}), {hw.cpu_model}, {hw.cpu_count} cores"


EXPORTERS.register(MarkdownExporter.name, MarkdownExporter())
