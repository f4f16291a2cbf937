"""The chart and check sections of the HTML reports: history, roofline, Pareto, scaling, alerts
and validation, each as records the templates write out.

The run report and the sweep page share these builders; the options come from the html
exporter's settings (see ``conf/exporter/html.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.analysis import AnalysisError, Changepoint, HistoryPoint, detect_changepoints, screen_histories
from calibrax.core import Alert, ExporterError, RunRecord, ValidationEntry, canonical_params
from calibrax.exporters import _charts, _format, _svg
from calibrax.exporters._data import ReportData

__all__ = [
    "AlertView",
    "ChartOptions",
    "ChartSections",
    "HistoryChart",
    "ScalingChart",
    "ValidationView",
    "alert_views",
    "chart_options",
    "chart_sections",
    "history_chart",
    "validation_views",
]

_SCREEN_ALPHA, _SCREEN_PERMUTATIONS = 0.05, 49


@dataclass(frozen=True)
class ChartOptions:
    """The html exporter's chart settings, checked.

    Attributes:
        pareto: the two measures of the Pareto chart (None: time against a memory measure).
        scaling_param: draw scaling series over this param only (None: every numeric param).
        scaling_measure: the measure of the scaling and history charts.
        max_scaling_charts: the most scaling charts drawn (the rest are listed in a table).
        changepoint_alpha: significance level of the history's changepoints (false discovery
            rate over the splits tested in one history, Benjamini-Hochberg).
        changepoint_permutations: permutations of each changepoint test.
    """

    pareto: tuple[str, str] | None = None
    scaling_param: str | None = None
    scaling_measure: str = "time"
    max_scaling_charts: int = 12
    changepoint_alpha: float = 0.01
    changepoint_permutations: int = 499


def chart_options(settings: Mapping[str, Any]) -> ChartOptions:
    """Read the chart settings of the html exporter, with defaults for the ones left out.

    Raises:
        ExporterError: a setting has the wrong type or range; the message names it.

    Example:
        >>> chart_options({"pareto": ["time", "compile_time"]}).pareto
        ('time', 'compile_time')
    """
    pareto = settings.get("pareto")
    if pareto is not None:
        if isinstance(pareto, str) or len(pareto) != 2 or not all(isinstance(m, str) for m in pareto):
            raise ExporterError(f"pareto must name two measures, e.g. [time, peak_rss], got {pareto!r}.")
        pareto = (str(pareto[0]), str(pareto[1]))
    param = settings.get("scaling_param")
    measure = settings.get("scaling_measure") or "time"
    if (param is not None and not isinstance(param, str)) or not isinstance(measure, str):
        raise ExporterError(f"scaling_param and scaling_measure must be names, got {param!r} and {measure!r}.")
    limit = _whole(settings.get("max_scaling_charts", 12), "max_scaling_charts", 0)
    alpha = settings.get("changepoint_alpha", 0.01)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ExporterError(f"changepoint_alpha must be a significance level between 0 and 1, got {alpha!r}.")
    permutations = _whole(settings.get("changepoint_permutations", 499), "changepoint_permutations", 99)
    return ChartOptions(pareto, param, measure, limit, float(alpha), permutations)


def _whole(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ExporterError(f"{name} must be a whole number >= {least}, got {value!r}.")
    return value


# History -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryChart:
    """A case's history: the plot and the changepoints marked on it."""

    plot: _svg.Plot
    changepoints: tuple[Changepoint, ...]
    runs: int


def history_chart(points: Sequence[HistoryPoint], unit: str, options: ChartOptions, measure: str = "time",
                  plausible: bool | None = None) -> HistoryChart | None:
    """The history chart of one case, with its changepoints; None for fewer than two runs.

    Changepoints are searched only where a quick test finds a shift plausible
    (:func:`~calibrax.analysis.screen_histories`, 49 permutations at level 0.05; pass its answer
    as ``plausible`` when many histories were screened at once): a history whose first split is
    not even suggestive there has no changepoint at the full search's level. The full search
    corrects over the splits it tried with Benjamini-Hochberg, which suits marking shifts for
    people to look at.

    Example:
        >>> flat = [HistoryPoint(f"r{i}", 1.0 + 0.01 * (i % 3)) for i in range(12)]
        >>> chart = history_chart(flat, "s", ChartOptions())
        >>> chart.runs, chart.changepoints
        (12, ())

    References:
        Benjamini and Hochberg, JRSS B 57, 1995; see :func:`calibrax.analysis.detect_changepoints`.
    """
    if len(points) < 2:
        return None
    if plausible is None:
        plausible = screen_histories([[p.value for p in points]], alpha=_SCREEN_ALPHA,
                                     n_permutations=_SCREEN_PERMUTATIONS)[0]
    found: tuple[Changepoint, ...] = ()
    if plausible:
        try:
            found = detect_changepoints(points, alpha=options.changepoint_alpha, correction="bh",
                                        n_permutations=options.changepoint_permutations).changepoints
        except AnalysisError:
            found = ()
    plot = _svg.history_plot(points, found, unit, measure)
    return HistoryChart(plot, found, len(points)) if plot is not None else None


def history_charts(record: RunRecord, data: ReportData | None, options: ChartOptions) -> dict[str, HistoryChart]:
    """Case key -> its history chart, for every case with two or more runs of history."""
    if data is None:
        return {}
    cases = [(case, data.history[case.key]) for case in record.cases if len(data.history.get(case.key, ())) >= 2]
    plausible = screen_histories([[p.value for p in points] for _, points in cases], alpha=_SCREEN_ALPHA,
                                 n_permutations=_SCREEN_PERMUTATIONS)
    out = {}
    for (case, points), maybe in zip(cases, plausible, strict=True):
        result = case.measures.get(data.measure)
        chart = history_chart(points, result.measure.unit if result else "s", options, data.measure, maybe)
        if chart is not None:
            out[case.key] = chart
    return out


# Roofline, Pareto, scaling -------------------------------------------------------------------


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


def chart_sections(records: Sequence[RunRecord], options: ChartOptions) -> ChartSections:
    """Build the roofline, Pareto and scaling charts of the runs' ok cases.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> sections = chart_sections([RunRecord(RunInfo("r1", "", RunStatus.OK), ())], ChartOptions())
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


# Alerts and validation -----------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    """An alert as a report row.

    Attributes:
        alert: the record.
        subject: what it is about, as ``key=value`` text.
        value, threshold: the figures with the subject measure's unit when known.
        own: True when the reported run's results raised it.
    """

    alert: Alert
    subject: str
    value: str
    threshold: str
    own: bool

    @property
    def severity(self) -> str:
        """The severity as text (``info`` to ``critical``)."""
        return self.alert.severity.value


def alert_views(alerts: Sequence[Alert], run_id: str) -> list[AlertView]:
    """Rows for the alerts, most severe first, then newest first.

    Example:
        >>> alert_views([], "r1")
        []
    """
    newest_first = sorted(alerts, key=lambda a: a.at, reverse=True)
    rows = []
    for alert in sorted(newest_first, key=lambda a: -a.severity.rank):
        unit = str(alert.subject.get("unit") or "")
        rows.append(AlertView(alert, _subject(alert.subject), _figure(alert.value, unit),
                              _figure(alert.threshold, unit), alert.run_id == run_id))
    return rows


def _subject(subject: Mapping[str, Any]) -> str:
    parts = []
    for key, value in subject.items():
        text = canonical_params(value) if isinstance(value, Mapping) else str(value)
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return _format.MISSING
    return _format.format_value(value, unit) if unit else _format.format_value(value, "1")


@dataclass(frozen=True)
class ValidationView:
    """A validation check as a report row; ``figures`` is its numbers as ``key=value`` text."""

    entry: ValidationEntry
    figures: str

    @property
    def outcome(self) -> str:
        """``passed`` or ``failed``."""
        return "passed" if self.entry.passed else "failed"


def validation_views(entries: Sequence[ValidationEntry]) -> list[ValidationView]:
    """Rows for the validation checks: failed ones first, each group in stored order.

    Example:
        >>> [v.outcome for v in validation_views([ValidationEntry("accuracy", "a", True, "ok"),
        ...                                        ValidationEntry("accuracy", "b", False, "off")])]
        ['failed', 'passed']
    """
    ordered = [e for e in entries if not e.passed] + [e for e in entries if e.passed]
    return [ValidationView(e, ", ".join(f"{k}={_short(v)}" for k, v in e.figures.items())) for e in ordered]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"[{len(value)} values]"
    return str(value)
