"""The run-level charts of the HTML reports: roofline, Pareto front and scaling laws, each as
records (plots and the note shown in a chart's place when it cannot be drawn).

The run report and the sweep page share them; the options are the html exporter's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from calibrax.core import RunRecord
from calibrax.exporters import _charts, _svg
from calibrax.exporters._settings import HtmlSettings

__all__ = ["ChartSections", "ScalingChart", "chart_sections"]


@dataclass(frozen=True)
class ScalingChart:
    """One scaling series and its plot."""

    series: _charts.ScalingSeries
    plot: _svg.Plot


@dataclass(frozen=True)
class ChartSections:
    """The run-level charts, each with the line shown in its place when it cannot be drawn.

    Attributes:
        roofline, pareto: the plots, or None.
        roofline_note, pareto_note: why the plot is absent (empty when it is drawn).
        scaling: the drawn scaling charts; ``scaling_series`` every series found (the table).
        scaling_note: why there is no scaling chart, or how many series were not drawn.
    """

    roofline: _svg.Plot | None
    roofline_note: str
    pareto: _svg.Plot | None
    pareto_note: str
    scaling: tuple[ScalingChart, ...]
    scaling_series: tuple[_charts.ScalingSeries, ...]
    scaling_note: str


def chart_sections(records: Sequence[RunRecord], options: HtmlSettings) -> ChartSections:
    """Build the roofline, Pareto and scaling charts of the runs' ok cases.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> sections = chart_sections([RunRecord(RunInfo("r1", "", RunStatus.OK), ())], HtmlSettings())
        >>> sections.roofline is None, sections.scaling
        (True, ())
    """
    roofline, roofline_note = _charts.roofline_data(records)
    pareto, pareto_note = _charts.pareto_data(records, options.pareto)
    series = _charts.scaling_series(records, options.scaling_measure, options.scaling_param)
    drawn = tuple(ScalingChart(s, _svg.scaling_plot(s)) for s in series[: options.max_scaling_charts])
    if not series:
        over = f"param {options.scaling_param}" if options.scaling_param else "param"
        note = (f"No benchmark has a numeric {over} with three or more sizes (the other params fixed), so "
                "there is no scaling law to fit.")
    elif len(series) > len(drawn):
        note = f"{len(drawn)} of {len(series)} series are drawn; the table lists every fit."
    else:
        note = ""
    return ChartSections(_svg.roofline_plot(roofline) if roofline else None, roofline_note,
                         _svg.pareto_plot(pareto) if pareto else None, pareto_note, drawn, tuple(series), note)
