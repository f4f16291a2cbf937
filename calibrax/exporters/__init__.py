"""exporters: render a run record as report files (HTML, Markdown, JSON).

Each exporter is registered in :data:`EXPORTERS` under its name and writes one file;
:func:`export_all` runs several and keeps going when one fails. Exporters render records only
and never query the store. Templates live in ``calibrax/exporters/templates`` and a user folder
(the ``template_dir`` setting) can override any of them.

Example:
    >>> from calibrax.exporters import EXPORTERS
    >>> [name for name in ("html", "json", "markdown") if name in EXPORTERS]
    ['html', 'json', 'markdown']
"""

from calibrax.exporters._format import format_seconds, format_value
from calibrax.exporters.base import (
    EXPORTERS,
    Exporter,
    ExportOutcome,
    export_all,
    get_exporter,
    render_template,
)
from calibrax.exporters.html import HtmlExporter, StripChart, html_context, strip_chart
from calibrax.exporters.json_exporter import JsonExporter
from calibrax.exporters.markdown import MarkdownExporter, markdown_context

__all__ = [
    "EXPORTERS",
    "ExportOutcome",
    "Exporter",
    "HtmlExporter",
    "JsonExporter",
    "MarkdownExporter",
    "StripChart",
    "export_all",
    "format_seconds",
    "format_value",
    "get_exporter",
    "html_context",
    "markdown_context",
    "render_template",
    "strip_chart",
]
