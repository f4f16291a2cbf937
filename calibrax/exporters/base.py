"""The exporter protocol, registry and export, under the module name they had before the split.

Kept so that plugins and notes that name ``calibrax.exporters.base`` still work; the code lives
in ``_protocol.py`` (the protocol), ``_registry.py`` (the registry), ``_export.py`` (export)
and ``_templates.py`` (template rendering). New code imports from ``calibrax.exporters``.
"""

from calibrax.exporters._export import ExportOutcome, export_all, export_report, report_settings, with_baseline
from calibrax.exporters._protocol import BaseExporter, Exporter
from calibrax.exporters._registry import EXPORTERS, get_exporter
from calibrax.exporters._templates import render_template

__all__ = [
    "EXPORTERS",
    "BaseExporter",
    "ExportOutcome",
    "Exporter",
    "export_all",
    "export_report",
    "get_exporter",
    "render_template",
    "report_settings",
    "with_baseline",
]
