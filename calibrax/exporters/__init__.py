"""exporters: render a run as report files (HTML, Markdown, JSON, JUnit XML, LaTeX, publication
figures), or send it to an experiment tracker (W&B, MLflow); render a sweep as one HTML page.

An exporter (:class:`Exporter`, most simply a :class:`BaseExporter` subclass) declares what it
needs and what it writes, and implements ``render_report(report, settings, folder)``:

- ``needs``: the stored parts of the :class:`ReportInput` it shows (``baseline``, ``history``,
  ``alerts``, ``validation``); :func:`export_report` reads from the store only what the selected
  exporters need, once, and every exporter renders that one record;
- ``output``: ``"file"`` (it returns the text of ``filename``) or ``"folder"`` (it writes a
  folder inside the report folder and returns its receipt, ``filename``);
- ``entry``: its file is the page a person opens first (:attr:`ExportOutcome.entry`);
- ``renders_sweeps``: it also renders a whole sweep (``render_sweep``; :func:`sweep_exporter`);
- ``settings_type``: its settings dataclass (:class:`HtmlSettings`, ...), whose fields hold the
  only defaults; a mapping (a stored run's settings) is converted by ``render``.

Exporters and templates render records only and never query the store. Templates live in
``calibrax/exporters/templates``; a user folder (the ``template_dir`` setting) overrides any.
``calibrax.testing.ExporterConformance`` is the suite every exporter passes.

Example:
    >>> from calibrax.exporters import EXPORTERS
    >>> [(n, EXPORTERS.get(n).output) for n in ("figures", "html", "json")]
    [('figures', 'folder'), ('html', 'file'), ('json', 'file')]
"""

from calibrax.exporters._export import (
    ExportOutcome,
    check_report_target,
    export_all,
    export_report,
    report_input_for,
    report_settings,
    with_baseline,
)
from calibrax.exporters._numbers import format_seconds, format_value
from calibrax.exporters._protocol import BaseExporter, Exporter, OutputKind, typed_settings
from calibrax.exporters._registry import EXPORTERS, get_exporter, sweep_exporter
from calibrax.exporters._report_input import (
    NEEDS,
    HistoryQuery,
    ReportData,
    ReportInput,
    collect_report_data,
    read_report_input,
    with_report_data,
)
from calibrax.exporters._settings import (
    FiguresSettings,
    HtmlSettings,
    JsonSettings,
    JunitSettings,
    LatexSettings,
    MarkdownSettings,
    MlflowSettings,
    NoSettings,
    WandbSettings,
    settings_from_mapping,
)
from calibrax.exporters._templates import render_template
from calibrax.exporters.html import (
    HtmlExporter,
    html_context,
    shared_domain,
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
    "NEEDS",
    "BaseExporter",
    "ExportOutcome",
    "Exporter",
    "FiguresExporter",
    "FiguresSettings",
    "HistoryQuery",
    "HtmlExporter",
    "HtmlSettings",
    "JsonExporter",
    "JsonSettings",
    "JunitExporter",
    "JunitSettings",
    "LatexExporter",
    "LatexSettings",
    "MarkdownExporter",
    "MarkdownSettings",
    "MlflowExporter",
    "MlflowSettings",
    "NoSettings",
    "OutputKind",
    "ReportData",
    "ReportInput",
    "WandbExporter",
    "WandbSettings",
    "check_report_target",
    "collect_report_data",
    "export_all",
    "export_report",
    "format_seconds",
    "format_value",
    "get_exporter",
    "html_context",
    "latex_context",
    "markdown_context",
    "read_report_input",
    "render_sweep_html",
    "render_template",
    "report_input_for",
    "report_settings",
    "settings_from_mapping",
    "shared_domain",
    "sweep_exporter",
    "typed_settings",
    "with_baseline",
    "with_report_data",
    "write_figures",
]
