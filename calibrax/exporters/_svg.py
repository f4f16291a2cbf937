"""Geometry of the HTML report's x-y charts (history, roofline, Pareto, scaling) as inline SVG.

Each builder returns a :class:`Plot`: coordinates in SVG user units plus the texts to show, all
computed here; the template's ``plot`` macro only writes them out (and autoescapes every text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from markupsafe import Markup, escape

from calibrax.analysis import Changepoint, HistoryPoint
from calibrax.exporters import _numbers
from calibrax.exporters._charts import ParetoData, RooflineData, ScalingSeries

__all__ = [
    "AxisTick",
    "Label",
    "Mark",
    "Plot",
    "Segment",
    "Trace",
    "change_text",
    "changepoint_title",
    "compact_value",
    "history_description",
    "history_frame",
    "history_plot",
    "linear_ticks",
    "padded_range",
    "pareto_plot",
    "point_title",
    "roofline_plot",
    "scaling_plot",
]

_WIDTH, _HEIGHT = 640, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 72.0, 624.0, 14.0, 236.0
_SMALL_HEIGHT, _SMALL_BOTTOM = 150, 112.0  # the per-case history charts are short
_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


@dataclass(frozen=True)
class AxisTick:
    """A labelled tick: its position along its axis (x for the x axis, y for the y axis)."""

    pos: float
    label: str


@dataclass(frozen=True)
class Mark:
    """A point drawn as a circle; ``kind`` is its CSS class, ``title`` its tooltip (may be empty)."""

    x: float
    y: float
    kind: str
    title: str = ""
    r: float = 3.5


@dataclass(frozen=True)
class Segment:
    """A straight line: an error bar, a changepoint rule, a roof."""

    x1: float
    y1: float
    x2: float
    y2: float
    kind: str
    title: str = ""


@dataclass(frozen=True)
class Trace:
    """A polyline through ``points`` (SVG ``x,y x,y ...`` text)."""

    points: str
    kind: str
    title: str = ""


@dataclass(frozen=True)
class Label:
    """A text in the plot; ``anchor`` is start, middle or end."""

    x: float
    y: float
    text: str
    kind: str = ""
    anchor: str = "start"


@dataclass(frozen=True)
class Plot:
    """An x-y chart ready to write out as SVG.

    Attributes:
        width, height: the viewBox.
        left, right, top, bottom: the plot area.
        x_ticks, y_ticks: labelled ticks (grid lines are drawn at them).
        x_label, y_label: the axis titles.
        traces, segments, marks, labels: what is drawn, bottom to top.
        description: the chart in words (its accessible name and tooltip).
    """

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: tuple[AxisTick, ...]
    y_ticks: tuple[AxisTick, ...]
    x_label: str
    y_label: str
    traces: tuple[Trace, ...]
    segments: tuple[Segment, ...]
    marks: tuple[Mark, ...]
    labels: tuple[Label, ...]
    description: str

    @property
    def plot_width(self) -> float:
        """Width of the plot area."""
        return round(self.right - self.left, 1)

    @property
    def plot_height(self) -> float:
        """Height of the plot area."""
        return round(self.bottom - self.top, 1)

    @property
    def x_label_y(self) -> float:
        """Where the x axis title's baseline sits."""
        return self.height - 6.0

    @property
    def y_label_x(self) -> float:
        """Where the y axis title sits (it is rotated)."""
        return 14.0

    @property
    def middle_x(self) -> float:
        """The plot area's horizontal middle."""
        return round((self.left + self.right) / 2, 1)

    @property
    def middle_y(self) -> float:
        """The plot area's vertical middle."""
        return round((self.top + self.bottom) / 2, 1)

    @property
    def marks_svg(self) -> Markup:
        """The marks as SVG circles, their titles escaped; written in one go because a template
        loop over the points of a thousand charts dominates the time to render a large report."""
        parts = []
        for m in self.marks:
            title = f"<title>{escape(m.title)}</title>" if m.title else ""
            parts.append(f'<circle class="{escape(m.kind)}" cx="{m.x}" cy="{m.y}" r="{m.r}">{title}</circle>')
        return Markup("".join(parts))


def compact_value(value: float, unit: str) -> str:
    """A short axis label: SI times and binary bytes as in tables, other units with SI prefixes.

    Example:
        >>> compact_value(2.5e9, "FLOP/s"), compact_value(0.004, "s"), compact_value(0.5, "1")
        ('2.5 GFLOP/s', '4 ms', '0.5')
    """
    if unit in ("s", "B"):
        return _numbers.format_value(value, unit)
    suffix = "" if unit == "1" else unit
    if value == 0:
        return f"0 {suffix}".strip()
    for scale, prefix in _SI:
        if abs(value) >= scale * 0.9995:
            text = f"{value / scale:.3g}"
            return f"{text} {prefix}{suffix}".strip()
    return f"{value:.3g} {suffix}".strip()


class _Scale:
    """Maps values of ``[lo, hi]`` (linear or log10) onto pixels ``[start, end]``."""

    def __init__(self, lo: float, hi: float, start: float, end: float, log: bool) -> None:
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        return round(self.start + (v - self.lo) / (self.hi - self.lo) * (self.end - self.start), 1)

    def ticks(self, unit: str) -> tuple[AxisTick, ...]:
        if not self.log:
            return tuple(AxisTick(self(v), label) for v, label in linear_ticks(self.lo, self.hi, unit))
        first, last = math.floor(self.lo + 1e-9), math.ceil(self.hi - 1e-9)
        steps = (1.0, 2.0, 5.0) if last - first <= 2 else (1.0,)
        stride = max(1, math.ceil((last - first + 1) / 8))
        values = [m * 10.0**k for k in range(first, last + 1, stride) for m in steps]
        inside = [v for v in values if self.lo - 1e-9 <= math.log10(v) <= self.hi + 1e-9]
        return tuple(AxisTick(self(v), compact_value(v, unit)) for v in inside)


def linear_ticks(lo: float, hi: float, unit: str, target: int = 5) -> list[tuple[float, str]]:
    """About ``target`` round tick values in ``[lo, hi]`` (steps of 1, 2 or 5 x 10^k), labelled.

    Example:
        >>> [label for _, label in linear_ticks(0.0, 0.004, "s")]
        ['0 ms', '1 ms', '2 ms', '3 ms', '4 ms']
    """
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    values = [k * step for k in range(first, last + 1)]
    if unit == "s":
        name, scale = _numbers.time_unit(max(abs(lo), abs(hi)))
    elif unit == "B":
        exponent = min(5, max(0, int(math.log(max(abs(lo), abs(hi), 1.0), 1024))))
        name, scale = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")[exponent], 1024.0**exponent
    else:
        name, scale = ("" if unit == "1" else unit), 1.0
    decimals = max(0, -math.floor(math.log10(step / scale) + 1e-9))
    suffix = f" {name}" if name else ""
    return [(v, f"{v / scale:.{decimals}f}{suffix}") for v in values]


def _padded(values: Sequence[float], log: bool, room: float = 0.06) -> tuple[float, float]:
    """The range of ``values`` with some room on each side (a factor on a log axis)."""
    lo, hi = min(values), max(values)
    if log:
        factor = (hi / lo) ** room if hi > lo else 2.0
        return lo / factor, hi * factor
    pad = (hi - lo) * room or abs(lo) * room or 1.0
    low = lo - pad
    return (0.0 if lo >= 0 > low else low), hi + pad


def history_frame() -> dict[str, float]:
    """The per-case history chart's viewBox and plot area, in SVG user units.

    Example:
        >>> history_frame()["bottom"]
        112.0
    """
    return {"w": _WIDTH, "h": _SMALL_HEIGHT, "l": _LEFT, "r": _RIGHT, "top": _TOP, "bottom": _SMALL_BOTTOM}


def padded_range(values: Sequence[float], room: float = 0.06) -> tuple[float, float]:
    """The range of ``values`` on a linear axis with ``room`` (a share of the range) on each side;
    never below zero when every value is positive.

    Example:
        >>> padded_range([1.0, 2.0], 0.1)
        (0.9, 2.1)
    """
    return _padded(values, False, room)


def _log_suits(values: Sequence[float]) -> bool:
    """A log axis suits positive values that span more than a factor of 50."""
    return min(values) > 0 and max(values) / min(values) > 50


def _plot(x: _Scale, y: _Scale, units: tuple[str, str], labels: tuple[str, str], *, height: int = _HEIGHT,
          traces: Sequence[Trace] = (), segments: Sequence[Segment] = (), marks: Sequence[Mark] = (),
          texts: Sequence[Label] = (), description: str = "") -> Plot:
    return Plot(_WIDTH, height, _LEFT, _RIGHT, _TOP, y.start, x.ticks(units[0]), y.ticks(units[1]),
                labels[0], labels[1], tuple(traces), tuple(segments), tuple(marks), tuple(texts), description)


def _polyline(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def history_plot(points: Sequence[HistoryPoint], changepoints: Sequence[Changepoint], unit: str,
                 measure: str = "time") -> Plot | None:
    """A case's median per run, oldest first (the last point is the run reported on), with a
    dashed rule and the relative change at each changepoint. None for fewer than 2 runs.

    Example:
        >>> plot = history_plot([HistoryPoint(f"r{i}", 1e-3 * (1 + i % 2)) for i in range(4)], [], "s")
        >>> len(plot.marks), plot.marks[-1].kind
        (4, 'mark current')
    """
    if len(points) < 2:
        return None
    values = [p.value for p in points]
    x = _Scale(-0.5, len(points) - 0.5, _LEFT, _RIGHT, log=False)
    y = _Scale(*_padded(values, False, 0.1), _SMALL_BOTTOM, _TOP, log=False)
    coords = [(x(i), y(v)) for i, v in enumerate(values)]
    last = len(points) - 1
    marks = [Mark(cx, cy, "mark current" if i == last else "mark", point_title(points[i], unit, measure)
                  if i == last else "", 3.0) for i, (cx, cy) in enumerate(coords)]
    rules, texts = [], []
    for cp in changepoints:
        at = x(cp.index - 0.5)
        rules.append(Segment(at, _TOP, at, _SMALL_BOTTOM, "changepoint", changepoint_title(cp, unit)))
        texts.append(Label(round(at + 4, 1), _TOP + 10, change_text(cp), "changepoint"))
    step = max(1, math.ceil(len(points) / 8))
    ticks = [i for i in range(0, len(points), step)]
    if last not in ticks:
        ticks.append(last)
    plot = _plot(x, y, ("1", unit), ("runs, oldest to newest", measure), height=_SMALL_HEIGHT,
                 traces=[Trace(_polyline(coords), "line")], segments=rules, marks=marks, texts=texts,
                 description=history_description(points, changepoints, unit))
    x_ticks = tuple(AxisTick(x(i), "this run" if i == last else str(i - last)) for i in ticks)
    return replace(plot, x_ticks=x_ticks)


def change_text(cp: Changepoint) -> str:
    """A changepoint's relative change as shown beside its rule, e.g. ``+20.0%``."""
    return f"{cp.relative_change:+.1%}" if math.isfinite(cp.relative_change) else "new level"


def changepoint_title(cp: Changepoint, unit: str) -> str:
    """A changepoint's tooltip: its run and commit, the levels before and after, its p-value."""
    return (f"Changepoint at run {cp.run_id}" + (f" (commit {cp.commit[:12]})" if cp.commit else "")
            + f": {_numbers.format_value(cp.before, unit)} to {_numbers.format_value(cp.after, unit)} "
            f"({change_text(cp)}, p = {cp.p_value:.3g})")


def point_title(point: HistoryPoint, unit: str, measure: str) -> str:
    """A history point's tooltip: its run, commit and value."""
    commit = f" (commit {point.commit[:12]})" if point.commit else ""
    return f"run {point.run_id}{commit}: {measure} {_numbers.format_value(point.value, unit)}"


def history_description(points: Sequence[HistoryPoint], changepoints: Sequence[Changepoint], unit: str) -> str:
    """A history chart in words: how many runs, the first and last value, the changepoints."""
    found = len(changepoints)
    shifts = f"{found} changepoint{'s' if found != 1 else ''}" if found else "no changepoint"
    return (f"{len(points)} runs from {_numbers.format_value(points[0].value, unit)} to "
            f"{_numbers.format_value(points[-1].value, unit)}; {shifts}")


def roofline_plot(data: RooflineData) -> Plot:
    """Cases by arithmetic intensity (x) and achieved FLOP/s (y), log-log, under the roof.

    Example:
        >>> from calibrax.exporters._charts import RooflinePoint
        >>> plot = roofline_plot(RooflineData((RooflinePoint("mm", 4.0, 2e9),), 1e11, 1e10, "test"))
        >>> [s.kind for s in plot.segments], len(plot.marks)
        (['roof memory', 'roof compute'], 1)
    """
    xs = [p.intensity for p in data.points]
    ys = [p.achieved for p in data.points]
    ridge = data.ridge
    if ridge is not None and data.peak_flops is not None:
        xs_all, ys_all = [*xs, ridge], [*ys, data.peak_flops]
    else:
        xs_all, ys_all = xs, ys
    x_lo, x_hi = _padded(xs_all, True, 0.15)
    x_lo, x_hi = min(x_lo, min(xs_all) / 4), max(x_hi, max(xs_all) * 4)
    y_lo, y_hi = _padded(ys_all, True, 0.1)
    y_lo, y_hi = min(y_lo, min(ys_all) / 4), max(y_hi, max(ys_all) * 1.6)
    x = _Scale(x_lo, x_hi, _LEFT, _RIGHT, log=True)
    y = _Scale(y_lo, y_hi, _BOTTOM, _TOP, log=True)
    segments, texts = [], []
    if ridge is not None and data.peak_flops is not None and data.bandwidth is not None:
        start = max(x_lo, y_lo / data.bandwidth)
        segments.append(Segment(x(start), y(start * data.bandwidth), x(ridge), y(data.peak_flops), "roof memory",
                                f"memory roof: {compact_value(data.bandwidth, 'B/s')}"))
        segments.append(Segment(x(ridge), y(data.peak_flops), x(x_hi), y(data.peak_flops), "roof compute",
                                f"compute roof: {compact_value(data.peak_flops, 'FLOP/s')}"))
        texts.append(Label(round(x(x_hi) - 4, 1), round(y(data.peak_flops) - 5, 1),
                           f"peak {compact_value(data.peak_flops, 'FLOP/s')} ({data.source})", "roof", "end"))
        texts.append(Label(round(x(ridge) + 4, 1), round(y(data.peak_flops) + 14, 1),
                           f"ridge {ridge:.3g} FLOP/B", "roof"))
    marks = [Mark(x(p.intensity), y(p.achieved), "mark",
                  f"{p.label}: {p.intensity:.3g} FLOP/B, {compact_value(p.achieved, 'FLOP/s')}") for p in data.points]
    roof = "under the roof of " + data.source if ridge is not None else "without peaks, so no roof is drawn"
    return _plot(x, y, ("FLOP/B", "FLOP/s"), ("arithmetic intensity (FLOP/byte)", "achieved FLOP/s"),
                 segments=segments, marks=marks, texts=texts,
                 description=f"{len(data.points)} cases by arithmetic intensity and achieved FLOP/s, {roof}")


def pareto_plot(data: ParetoData) -> Plot:
    """Cases on two measures; the Pareto front's points are highlighted and joined.

    Example:
        >>> from calibrax.analysis import pareto_analysis
        >>> analysis = pareto_analysis([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0]], ["lower", "lower"], ["a", "b", "c"])
        >>> plot = pareto_plot(ParetoData(("time", "peak_rss"), ("s", "B"), ("a", "b", "c"), analysis))
        >>> [m.kind for m in plot.marks]
        ['mark front', 'mark front', 'mark']
    """
    xs = [p.values[0] for p in data.analysis.points]
    ys = [p.values[1] for p in data.analysis.points]
    x_log, y_log = _log_suits(xs), _log_suits(ys)
    x = _Scale(*_padded(xs, x_log), _LEFT, _RIGHT, log=x_log)
    y = _Scale(*_padded(ys, y_log), _BOTTOM, _TOP, log=y_log)
    front = sorted((p.values[0], p.values[1]) for p in data.analysis.first_front)
    marks = []
    for point in data.analysis.points:
        on_front = point.front == 0
        title = (f"{point.label}: {data.measures[0]} {_numbers.format_value(point.values[0], data.units[0])}, "
                 f"{data.measures[1]} {_numbers.format_value(point.values[1], data.units[1])}"
                 + (" (on the Pareto front)" if on_front else ""))
        marks.append(Mark(x(point.values[0]), y(point.values[1]), "mark front" if on_front else "mark", title))
    objectives = data.analysis.objectives
    words = ", ".join(f"{name} ({o.direction.value} is better)" for name, o in zip(data.measures, objectives,
                                                                                    strict=True))
    return _plot(x, y, data.units, (_axis_title(data.measures[0], x_log), _axis_title(data.measures[1], y_log)),
                 traces=[Trace(_polyline([(x(a), y(b)) for a, b in front]), "front")], marks=marks,
                 description=f"{len(marks)} cases on {words}; {len(front)} on the Pareto front")


def _axis_title(name: str, log: bool) -> str:
    return f"{name} (log scale)" if log else name


def scaling_plot(series: ScalingSeries, samples: int = 32) -> Plot:
    """A scaling series on log-log axes: medians with CI bars and the fitted power law.

    Example:
        >>> from calibrax.exporters._charts import ScalingPoint
        >>> pts = tuple(ScalingPoint(n, 1e-9 * n**2, 0.9e-9 * n**2, 1.1e-9 * n**2) for n in (8.0, 16.0, 32.0))
        >>> plot = scaling_plot(ScalingSeries("mm", "n", {}, "time", "s", pts, None))
        >>> len(plot.marks), len(plot.segments), plot.traces
        (3, 3, ())
    """
    xs = [p.x for p in series.points]
    finite = [v for p in series.points for v in (p.median, p.ci_low, p.ci_high) if math.isfinite(v) and v > 0]
    x = _Scale(*_padded(xs, True, 0.08), _LEFT, _RIGHT, log=True)
    y = _Scale(*_padded(finite, True, 0.08), _BOTTOM, _TOP, log=True)
    bars = [Segment(x(p.x), y(p.ci_low), x(p.x), y(p.ci_high), "errorbar")
            for p in series.points if _positive_interval(p.ci_low, p.ci_high)]
    marks = [Mark(x(p.x), y(p.median), "mark", f"{series.param}={p.x:g}: "
                  f"{_numbers.format_value(p.median, series.unit)}") for p in series.points]
    traces: list[Trace] = []
    texts: list[Label] = []
    if series.fit is not None:
        grid = _log_grid(min(xs), max(xs), samples)
        fitted = [(gx, float(series.fit.predict(gx))) for gx in grid]
        inside = [(x(gx), y(gy)) for gx, gy in fitted if gy > 0 and _within(y, gy)]
        traces.append(Trace(_polyline(inside), "fit", series.law))
        texts.append(Label(_LEFT + 6, _TOP + 12, series.law, "law"))
    return _plot(x, y, ("1", series.unit), (f"{series.param} (log scale)", f"{series.measure} (log scale)"),
                 traces=traces, segments=bars, marks=marks, texts=texts,
                 description=f"{series.title}: {len(marks)} sizes; {series.law}")


def _positive_interval(low: float, high: float) -> bool:
    return math.isfinite(low) and math.isfinite(high) and 0 < low <= high


def _within(scale: _Scale, value: float) -> bool:
    v = math.log10(value)
    return scale.lo - 1e-9 <= v <= scale.hi + 1e-9


def _log_grid(lo: float, hi: float, samples: int) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo * (hi / lo) ** (i / (samples - 1)) for i in range(samples)]
