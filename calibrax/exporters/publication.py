"""Publication figures with matplotlib (the ``figures`` extra): scaling, comparison, roofline.

Each figure is saved as PDF and SVG (or the formats chosen) in a serif style sized for one column
of a two-column paper. matplotlib is imported only when figures are made, and the figures are
drawn on :class:`matplotlib.figure.Figure` objects with the Agg canvas, never through pyplot,
so no global backend or state is touched; text is rendered by matplotlib itself (no LaTeX).

The ``figures`` exporter writes the figures into a folder beside its receipt, ``figures.json``,
which lists the files written and the figures left out with the reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibrax.core import ExporterError, RunRecord
from calibrax.exporters import _charts, _tracking
from calibrax.exporters._protocol import BaseExporter, OutputKind, typed_settings_of
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import FiguresSettings
from calibrax.exporters._svg import compact_value

_log = logging.getLogger("calibrax")

__all__ = [
    "FigureStyle",
    "FiguresExporter",
    "FiguresResult",
    "comparison_figure",
    "figure_style",
    "roofline_figure",
    "scaling_figure",
    "write_figures",
]

_KINDS = ("scaling", "comparison", "roofline")
_FORMATS = ("pdf", "svg", "png")


@dataclass(frozen=True)
class FigureStyle:
    """How the figures look (from :class:`~calibrax.exporters.FiguresSettings`, checked).

    Attributes:
        width, height: inches.
        font_family: ``serif`` or ``sans-serif``.
        font_size: points, for labels; ticks and legends are a point smaller.
        formats: the files written per figure (``pdf``, ``svg``, ``png``).
        dpi: resolution of raster output (PNG).
    """

    width: float
    height: float
    font_family: str
    font_size: float
    formats: tuple[str, ...]
    dpi: int

    def rc(self) -> dict[str, Any]:
        """matplotlib settings for this style (used inside ``matplotlib.rc_context``)."""
        return {
            "font.family": self.font_family,
            "font.serif": ["DejaVu Serif", "Times New Roman", "Times", "serif"],
            "font.size": self.font_size,
            "axes.labelsize": self.font_size,
            "axes.titlesize": self.font_size,
            "xtick.labelsize": self.font_size - 1,
            "ytick.labelsize": self.font_size - 1,
            "legend.fontsize": self.font_size - 1,
            "axes.linewidth": 0.6,
            "lines.linewidth": 1.0,
            "lines.markersize": 3.5,
            "text.usetex": False,
            "mathtext.fontset": "dejavuserif" if self.font_family == "serif" else "dejavusans",
            "pdf.fonttype": 42,  # TrueType fonts in PDFs, as publishers ask
            "svg.fonttype": "none",  # SVG text stays text
            "svg.hashsalt": "calibrax",  # stable ids, so equal figures give equal files
        }


def figure_style(settings: FiguresSettings | Mapping[str, Any] | None = None) -> FigureStyle:
    """The figures exporter's style settings, checked.

    Raises:
        ExporterError: a setting has the wrong type or value; the message names it.

    Example:
        >>> figure_style({"formats": ["svg"], "width": 7.0}).formats
        ('svg',)
    """
    options = _figures_settings(settings)
    formats = options.formats
    if isinstance(formats, str) or not formats or any(f not in _FORMATS for f in formats):
        raise ExporterError(f"formats must be a list of {', '.join(_FORMATS)}, got {formats!r}.")
    for name in ("width", "height", "font_size"):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ExporterError(f"{name} must be a positive number, got {value!r}.")
    if options.font_family not in ("serif", "sans-serif"):
        raise ExporterError(f"font_family must be serif or sans-serif, got {options.font_family!r}.")
    dpi = options.dpi
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 50:
        raise ExporterError(f"dpi must be a whole number >= 50, got {dpi!r}.")
    return FigureStyle(float(options.width), float(options.height), str(options.font_family),
                       float(options.font_size), tuple(dict.fromkeys(str(f) for f in formats)), dpi)


def _figures_settings(settings: FiguresSettings | Mapping[str, Any] | None) -> FiguresSettings:
    typed: FiguresSettings = typed_settings_of(FiguresSettings, "figures", settings)
    return typed


def _matplotlib() -> Any:
    """matplotlib, or an error that names the extra that installs it."""
    _tracking.import_extra("matplotlib", "figures")
    # Saving a PDF subsets its fonts through fontTools, which logs every table it prunes at INFO,
    # and calibrax-run's logging shows INFO: keep those lines out of the run's output.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    return _tracking.import_extra("matplotlib.figure", "figures")


def _new_figure(style: FigureStyle) -> Any:
    figure_module = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure_module.Figure(figsize=(style.width, style.height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


@contextlib.contextmanager
def _axes(style: FigureStyle) -> Iterator[tuple[Any, Any]]:
    """A new figure and its one axes, drawn under the style's matplotlib settings."""
    matplotlib = _tracking.import_extra("matplotlib", "figures")
    with matplotlib.rc_context(style.rc()):
        fig = _new_figure(style)
        yield fig, fig.add_subplot()


def _tidy(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, which="major", linewidth=0.3, alpha=0.5)


def scaling_figure(series: _charts.ScalingSeries, style: FigureStyle | None = None) -> Any:
    """Measured medians with CI bars and the fitted power law, on log-log axes.

    Returns:
        A :class:`matplotlib.figure.Figure`.

    Raises:
        ExporterError: matplotlib is not installed (``pip install calibrax[figures]``).
    """
    with _axes(style or figure_style()) as (fig, ax):
        xs = [p.x for p in series.points]
        ys = [p.median for p in series.points]
        lows = [max(0.0, p.median - p.ci_low) if math.isfinite(p.ci_low) else 0.0 for p in series.points]
        highs = [max(0.0, p.ci_high - p.median) if math.isfinite(p.ci_high) else 0.0 for p in series.points]
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt="o", color="#1f4e79", ecolor="#1f4e79", elinewidth=0.8,
                    capsize=2, label="median, 95% CI")
        if series.fit is not None:
            grid = [min(xs) * (max(xs) / min(xs)) ** (i / 63) for i in range(64)]
            b = series.fit["b"]
            ax.plot(grid, series.fit.predict(grid), "--", color="#b2182b",
                    label=_text(f"fit ∝ {series.param}^{b.value:.2f}, R² = {series.fit.r_squared:.3f}"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(_text(series.param))
        ax.set_ylabel(_text(f"{series.measure} ({series.unit})" if series.unit not in ("", "1") else series.measure))
        ax.legend(frameon=False)
        _tidy(ax)
    return fig


def comparison_figure(rows: Sequence[_charts.RatioRow], candidate: str, baseline: str,
                      style: FigureStyle | None = None) -> Any:
    """Candidate over baseline per case: the ratio of medians with its CI, 1 marked.

    Returns:
        A :class:`matplotlib.figure.Figure` (taller when there are many cases).

    Raises:
        ExporterError: matplotlib is not installed (``pip install calibrax[figures]``).
    """
    style = style or figure_style()
    height = max(style.height, 0.9 + 0.16 * len(rows))
    tall = FigureStyle(style.width, height, style.font_family, style.font_size, style.formats, style.dpi)
    with _axes(tall) as (fig, ax):
        positions = list(range(len(rows)))[::-1]
        colors = {"regressed": "#b2182b", "improved": "#1a7f37"}
        for y, row in zip(positions, rows, strict=True):
            color = colors.get(row.verdict, "#1f4e79")
            if math.isfinite(row.ci_low) and math.isfinite(row.ci_high):
                ax.plot([row.ci_low, row.ci_high], [y, y], color=color, linewidth=1.2)
            ax.plot([row.ratio], [y], "o", color=color)
        ax.axvline(1.0, color="0.3", linewidth=0.6, linestyle=":")
        ax.set_yticks(positions, [_text(_short(r.label)) for r in rows])
        ax.set_xlabel(_text(f"time ratio, {_short(candidate, 24)} / {_short(baseline, 24)} (95% CI)"))
        _tidy(ax)
    return fig


def roofline_figure(data: _charts.RooflineData, style: FigureStyle | None = None) -> Any:
    """Cases by arithmetic intensity and achieved FLOP/s under the roof, log-log.

    Returns:
        A :class:`matplotlib.figure.Figure`; without peaks, the cases alone.

    Raises:
        ExporterError: matplotlib is not installed (``pip install calibrax[figures]``).
    """
    with _axes(style or figure_style()) as (fig, ax):
        xs = [p.intensity for p in data.points]
        ys = [p.achieved for p in data.points]
        ax.plot(xs, ys, "o", color="#1f4e79", label="cases")
        if data.ridge is not None and data.peak_flops is not None and data.bandwidth is not None:
            lo, hi = min([*xs, data.ridge]) / 4, max([*xs, data.ridge]) * 4
            ax.plot([lo, data.ridge, hi], [lo * data.bandwidth, data.peak_flops, data.peak_flops], "-",
                    color="0.15", linewidth=1.2,
                    label=f"roof: {compact_value(data.peak_flops, 'FLOP/s')}, {compact_value(data.bandwidth, 'B/s')}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (FLOP/byte)")
        ax.set_ylabel("achieved FLOP/s")
        ax.legend(frameon=False)
        _tidy(ax)
    return fig


def _text(text: str) -> str:
    """``text`` shown as it is: a ``$`` would otherwise start matplotlib's math mode."""
    return text.replace("$", r"\$")


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FiguresResult:
    """What :func:`write_figures` did.

    Attributes:
        written: figure name -> the files written for it (one per format).
        skipped: figure kind -> why it was not drawn.
    """

    written: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the exporter's receipt)."""
        return {"written": {k: [str(p) for p in v] for k, v in self.written.items()}, "skipped": dict(self.skipped)}


def _save(fig: Any, folder: Path, name: str, style: FigureStyle) -> tuple[Path, ...]:
    matplotlib = _tracking.import_extra("matplotlib", "figures")
    paths = []
    with matplotlib.rc_context(style.rc()):
        for fmt in style.formats:
            path = folder / f"{name}.{fmt}"
            metadata = {"Creator": "calibrax", "CreationDate": None} if fmt == "pdf" else (
                {"Creator": "calibrax", "Date": None} if fmt == "svg" else {"Software": "calibrax"})
            fig.savefig(path, format=fmt, dpi=style.dpi, metadata=metadata)
            paths.append(path)
    return tuple(paths)


def write_figures(records: Sequence[RunRecord], folder: Path,
                  settings: FiguresSettings | Mapping[str, Any] | None = None,
                  baseline: RunRecord | None = None) -> FiguresResult:
    """Draw the publication figures of one run (or a sweep's members) into ``folder``.

    Args:
        records: the runs; scaling and roofline use every ok case of all of them.
        folder: where the files go; created when missing.
        settings: the figures exporter's settings (:class:`~calibrax.exporters.FiguresSettings`,
            or a mapping of them); ``dir`` is not used here.
        baseline: the run the first record is compared with (the comparison figure needs it).

    Raises:
        ExporterError: matplotlib is missing (``pip install calibrax[figures]``), a setting is
            invalid, or ``folder`` cannot be created.

    Example:
        result = write_figures([store.load_run("latest")], Path("paper/figures"))
    """
    options = _figures_settings(settings)
    style = figure_style(options)
    kinds = options.figures
    if isinstance(kinds, str) or any(k not in _KINDS for k in kinds):
        raise ExporterError(f"figures must be a list of {', '.join(_KINDS)}, got {kinds!r}.")
    _matplotlib()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExporterError(f"Could not create the figures folder {str(folder)!r}: {exc}.") from exc
    result = FiguresResult()
    if "scaling" in kinds:
        _scaling_figures(records, options, style, folder, result)
    if "comparison" in kinds:
        _comparison_figure(records, baseline, options.measure, style, folder, result)
    if "roofline" in kinds:
        data, note = _charts.roofline_data(records)
        if data is not None:
            result.written["roofline"] = _save(roofline_figure(data, style), folder, "roofline", style)
        else:
            result.skipped["roofline"] = note
    return result


def _scaling_figures(records: Sequence[RunRecord], options: FiguresSettings, style: FigureStyle, folder: Path,
                     result: FiguresResult) -> None:
    series = _charts.scaling_series(records, options.measure, options.scaling_param)
    for i, s in enumerate(series[: int(options.max_scaling)]):
        name = _file_name(f"scaling_{s.benchmark}_{s.param}", i)
        result.written[name] = _save(scaling_figure(s, style), folder, name, style)
    if not series:
        result.skipped["scaling"] = "no benchmark has a numeric param with three or more sizes"


def _comparison_figure(records: Sequence[RunRecord], baseline: RunRecord | None, measure: str, style: FigureStyle,
                       folder: Path, result: FiguresResult) -> None:
    rows = _charts.ratio_rows(records[0], baseline, measure) if baseline is not None and records else []
    if rows and baseline is not None:
        fig = comparison_figure(rows, records[0].run.id, baseline.run.id, style)
        result.written["comparison"] = _save(fig, folder, "comparison", style)
    else:
        result.skipped["comparison"] = ("no baseline run was given" if baseline is None
                                        else "the run and its baseline share no measured case")


def _file_name(text: str, index: int) -> str:
    """A file name from benchmark and param names (which may hold any character)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)
    safe = "_".join(part for part in safe.split("_") if part)
    return f"{safe[:60] or 'figure'}_{index}"


class FiguresExporter(BaseExporter[FiguresSettings]):
    """Writes the publication figures into a folder and ``figures.json`` (what it wrote).

    A ``folder`` exporter: the figures go into ``dir`` (relative to the report folder unless
    absolute) and its file is the receipt. It needs the baseline run for the comparison
    figure. Its settings are :class:`~calibrax.exporters.FiguresSettings`.

    Example:
        >>> FiguresExporter().filename, FiguresExporter().output
        ('figures.json', 'folder')
    """

    name = "figures"
    filename = "figures.json"
    output: OutputKind = "folder"
    needs = frozenset({"baseline"})
    renders_sweeps = True
    settings_type = FiguresSettings
    definition_key = "calibrax.exporters.publication.FiguresExporter"

    def render_report(self, report: ReportInput, settings: FiguresSettings, folder: Path | None = None) -> str:
        """Draw the figures into ``folder / dir`` (the current folder when None) and return the
        receipt (JSON text)."""
        target = Path(folder if folder is not None else Path.cwd()) / settings.dir
        result = write_figures([report.record], target, settings, report.baseline)
        for kind, why in result.skipped.items():
            _log.warning("The %s figure of run %s was not drawn: %s.", kind, report.run_id, why)
        return json.dumps({"run_id": report.run_id, "folder": str(target), **result.to_dict()}, indent=2) + "\n"

    def render_sweep(self, sweep_id: str, records: Sequence[RunRecord], settings: Any = None,
                     axes: Sequence[str] | None = None, folder: Path | None = None) -> str:
        """Draw the figures of every member run into ``folder / dir`` (the current folder when
        None) and return the receipt (JSON text); a sweep has no baseline to compare with."""
        options: FiguresSettings = typed_settings_of(FiguresSettings, self.name, settings)
        target = Path(folder if folder is not None else Path.cwd()) / options.dir
        result = write_figures(list(records), target, options)
        for kind, why in result.skipped.items():
            _log.warning("The %s figure of sweep %s was not drawn: %s.", kind, sweep_id, why)
        return json.dumps({"sweep_id": sweep_id, "folder": str(target), **result.to_dict()}, indent=2) + "\n"

    def render_into(self, record: RunRecord, settings: Mapping[str, Any], out_dir: Path) -> str:
        """The older name of ``render(record, settings, out_dir)``, kept for its callers."""
        return self.render(record, settings, out_dir)


EXPORTERS.register(FiguresExporter.name, FiguresExporter())
