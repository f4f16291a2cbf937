"""exporters: render a run record as report files (HTML, Markdown, JSON, JUnit XML, LaTeX,
publication figures), or send it to an experiment tracker (W&B, MLflow); render a sweep as one
HTML page.

Each exporter is registered in :data:`EXPORTERS` under its name and writes one file;
:func:`export_all` runs several and keeps going when one fails. Exporters render records only
and never query the store. Templates live in ``calibrax/exporters/templates`` and a user folder
(the ``template_dir`` setting) can override any of them.

Example:
    >>> from calibrax.exporters import EXPORTERS
    >>> [name for name in ("html", "json", "markdown") if name in EXPORTERS]
    ['html', 'json', 'markdown']
"""

from calibrax.exporters._data import ReportData, collect_report_data, with_report_data
from calibrax.exporters._format import format_seconds, format_value
from calibrax.exporters.base import (
    EXPORTERS,
    Exporter,
    ExportOutcome,
    export_all,
    get_exporter,
    render_template,
    report_settings,
    with_baseline,
)
from calibrax.exporters.html import (
    HtmlExporter,
    StripChart,
    html_context,
    shared_domain,
    strip_chart,
)
from calibrax.exporters.json_exporter import JsonExporter
from calibrax.exporters.junit import JunitExporter
from calibrax.exporters.latex import LatexExporter, latex_context
from calibrax.exporters.markdown import MarkdownExporter, markdown_context
from calibrax.exporters.mlflow_exporter import MlflowExporter
from calibrax.exporters.publication import FiguresExporter, write_figures
from calibrax.exporters.sweep_page import render_sweep_html
from calibrax.exporters.wandb_exporter import WandbExporter

__all__ = [
    "EXPORTERS",
    "ExportOutcome",
    "Exporter",
    "FiguresExporter",
    "HtmlExporter",
    "JsonExporter",
    "JunitExporter",
    "LatexExporter",
    "MarkdownExporter",
    "MlflowExporter",
    "ReportData",
    "StripChart",
    "WandbExporter",
    "collect_report_data",
    "with_report_data",
    "export_all",
    "format_seconds",
    "format_value",
    "get_exporter",
    "html_context",
    "latex_context",
    "markdown_context",
    "render_sweep_html",
    "render_template",
    "report_settings",
    "shared_domain",
    "strip_chart",
    "with_baseline",
    "write_figures",
]
