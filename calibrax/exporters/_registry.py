"""The exporter registry: every exporter by name, and the lookups by what they declare."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from calibrax.core import Registry
from calibrax.exporters._protocol import BaseExporter, Exporter
from calibrax.exporters._report_input import ReportInput

__all__ = ["EXPORTERS", "get_exporter", "sweep_exporter"]

EXPORTERS: Registry[Exporter] = Registry("exporter", "calibrax.exporters")
"""Every exporter by name; plugins add theirs through the ``calibrax.exporters`` entry points."""


def get_exporter(name: str) -> Exporter:
    """Return the exporter registered as ``name``.

    Raises:
        NotFoundError: no exporter has that name; the message lists close matches.

    Example:
        >>> get_exporter("markdown").filename
        'summary.md'
    """
    return _adopted(EXPORTERS.get(name))


class _OlderExporter(BaseExporter[Any]):
    """An exporter written for the first protocol (``name``, ``filename``, ``render(record,
    settings)`` and nothing declared): one file, needing nothing, settings passed as a mapping."""

    settings_type = dict  # its settings stay the mapping the config gives

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.filename = inner, str(inner.name), str(inner.filename)

    def render_report(self, report: ReportInput, settings: Any, folder: Path | None = None) -> str:
        return str(self.inner.render(report.record, dict(settings or {})))


def _adopted(member: Any) -> Exporter:
    if hasattr(member, "render_report"):
        return member
    return _OlderExporter(member)


def sweep_exporter(names: Iterable[str]) -> Exporter | None:
    """The first of the named exporters that renders a whole sweep (``renders_sweeps``), if any.

    Names that are not registered are passed over (the runs report them as config errors).

    Example:
        >>> sweep_exporter(["json", "html"]).name, sweep_exporter(["json"])
        ('html', None)
    """
    for name in names:
        if name in EXPORTERS and get_exporter(name).renders_sweeps:
            return get_exporter(name)
    return None
