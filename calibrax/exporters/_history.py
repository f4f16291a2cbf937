"""The history chart of each case: its median over past runs, with the changepoints marked.

Reads the history that the report input holds (:attr:`ReportInput.history`); the options are
the html exporter's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from calibrax.analysis import (
    AnalysisError,
    Changepoint,
    HistoryPoint,
    detect_changepoints,
    detect_changepoints_many,
    screen_histories,
)
from calibrax.core import ExporterError
from calibrax.exporters import _page_charts, _svg
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import HtmlSettings

__all__ = ["HistoryChart", "history_chart", "history_charts"]

_SCREEN_ALPHA, _SCREEN_PERMUTATIONS = 0.05, 49


@dataclass(frozen=True)
class HistoryChart:
    """A case's history (two or more runs, oldest first) and the changepoints marked on it.

    The run report draws it in the page from :attr:`data`; :attr:`plot` is the same chart's
    SVG geometry.
    """

    points: tuple[HistoryPoint, ...]
    changepoints: tuple[Changepoint, ...]
    unit: str
    measure: str = "time"
    other_method: frozenset[str] = frozenset()
    """Runs whose medians are an interleaved gate's trial values, marked apart."""

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise ExporterError(f"A history chart needs two or more runs, got {len(self.points)}.")

    @property
    def runs(self) -> int:
        """How many runs the history holds."""
        return len(self.points)

    @property
    def plot(self) -> _svg.Plot:
        """The chart as SVG geometry."""
        plot = _svg.history_plot(self.points, self.changepoints, self.unit, self.measure)
        if plot is None:  # a HistoryChart always holds two or more runs
            raise ExporterError(f"A history chart needs two or more runs, got {self.runs}.")
        return plot

    @property
    def data(self) -> _page_charts.HistoryData:
        """The chart as the page's compact data."""
        data = _page_charts.history_data(self.points, self.changepoints, self.unit, self.measure, self.other_method)
        if data is None:
            raise ExporterError(f"A history chart needs two or more runs, got {self.runs}.")
        return data


def history_chart(points: Sequence[HistoryPoint], unit: str, options: HtmlSettings, measure: str = "time",
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
        >>> chart = history_chart(flat, "s", HtmlSettings())
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
    return HistoryChart(tuple(points), _changepoints(points, options) if plausible else (), unit, measure)


def _changepoints(points: Sequence[HistoryPoint], options: HtmlSettings) -> tuple[Changepoint, ...]:
    """The changepoints of one history at the report's level (none where the search refuses it)."""
    try:
        return detect_changepoints(points, alpha=options.changepoint_alpha, correction="bh",
                                   n_permutations=options.changepoint_permutations).changepoints
    except AnalysisError:
        return ()


def history_charts(report: ReportInput, options: HtmlSettings) -> dict[str, HistoryChart]:
    """Case key -> its history chart, for every case with two or more runs of history.

    Every history is screened at once, and the changepoints of those the screen flags are
    searched together (:func:`~calibrax.analysis.detect_changepoints_many`: the changepoints
    that :func:`history_chart` finds one history at a time, in less time).
    """
    if report.history is None:
        return {}
    history, measure = report.history, report.history_measure
    cases = [(key, case, points) for case in report.record.cases
             if len(points := history.get(key := case.key, ())) >= 2]
    plausible = screen_histories([[p.value for p in points] for _, _, points in cases], alpha=_SCREEN_ALPHA,
                                 n_permutations=_SCREEN_PERMUTATIONS)
    searched = iter(_changepoints_many([points for (_, _, points), maybe in zip(cases, plausible, strict=True)
                                        if maybe], options))
    out = {}
    for (key, case, points), maybe in zip(cases, plausible, strict=True):
        result = case.measures.get(measure)
        out[key] = HistoryChart(tuple(points), next(searched) if maybe else (), result.measure.unit if result else "s",
                                measure, report.trial_runs)
    return out


def _changepoints_many(histories: Sequence[Sequence[HistoryPoint]], options: HtmlSettings) -> list[tuple[Changepoint, ...]]:
    """:func:`_changepoints` of each history, searched together."""
    try:
        results = detect_changepoints_many(histories, alpha=options.changepoint_alpha, correction="bh",
                                           n_permutations=options.changepoint_permutations)
    except AnalysisError:  # a history the search refuses: each alone, so the others keep theirs
        return [_changepoints(points, options) for points in histories]
    return [r.changepoints for r in results]
