"""The per-case charts of the run report as compact data that the page's script draws.

A large run has thousands of per-case charts (each case's samples, its baseline's samples and
its history); written out as SVG they made most of the page's bytes and of the time to render
it. Instead the page carries one JSON block (:func:`page_json`) and a small inline script draws
each chart as SVG when the page loads. Positions are fractions of the plot area quantized to
4,096 levels (finer than a pixel of the drawn chart) and written as two characters each; texts
(tick labels, descriptions, tooltips) are formatted here, so the page shows the same words as
the other reports. At most 600 samples of a case are drawn (evenly thinned); the store keeps
them all.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calibrax.analysis import Changepoint, HistoryPoint
from calibrax.exporters import _numbers, _svg

__all__ = [
    "LEVELS",
    "STRIP_FRAME",
    "HistoryData",
    "StripData",
    "decode_positions",
    "encode_positions",
    "history_data",
    "page_json",
    "strip_data",
    "strip_pair",
    "strip_pairs",
]

LEVELS = 4096  # positions per axis; two characters of a 64-letter alphabet each
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_LETTERS = np.frombuffer(_ALPHABET.encode("ascii"), dtype=np.uint8)
_MAX_DOTS = 600  # more dots only blur the picture and bloat the file

# Chart geometry in SVG user units, sent to the page once (the script has no numbers of its own).
STRIP_FRAME: dict[str, float] = {"w": 640, "h": 124, "l": 24.0, "r": 616.0, "top": 8.0, "bottom": 84.0,
                                  "axis": 92.0, "label": 110.0, "inset": 10.0}


def encode_positions(fractions: Sequence[float] | NDArray[np.float64]) -> str:
    """Fractions of an axis (0 to 1, clipped) as two characters each, 4,096 levels.

    Example:
        >>> encode_positions([0.0, 0.5, 1.0])
        'AAgA__'
        >>> [round(f, 3) for f in decode_positions('AAgA__')]
        [0.0, 0.5, 1.0]
    """
    levels = _levels(np.asarray(fractions, dtype=float))
    out = np.empty(2 * levels.size, dtype=np.uint8)
    out[0::2], out[1::2] = _LETTERS[levels >> 6], _LETTERS[levels & 63]
    return out.tobytes().decode("ascii")


def decode_positions(text: str) -> list[float]:
    """The fractions :func:`encode_positions` wrote (as the page's script reads them).

    Example:
        >>> decode_positions('__')
        [1.0]
    """
    index = {c: i for i, c in enumerate(_ALPHABET)}
    return [(index[text[i]] * 64 + index[text[i + 1]]) / (LEVELS - 1) for i in range(0, len(text), 2)]


def _level(fraction: float) -> int:
    """A fraction of an axis as a level from 0 to 4,095 (clipped; NaN is 0)."""
    if not fraction > 0.0:
        return 0
    return min(LEVELS - 1, int(fraction * (LEVELS - 1) + 0.5))


def _levels(fractions: NDArray[np.float64]) -> NDArray[np.intp]:
    """:func:`_level` of each fraction at once (the same arithmetic, so the same levels)."""
    with np.errstate(invalid="ignore"):
        scaled = np.floor(fractions * (LEVELS - 1) + 0.5)
        inside = fractions > 0.0  # False for NaN
    return np.where(inside, np.minimum(scaled, LEVELS - 1), 0).astype(np.intp)


@dataclass(frozen=True)
class StripData:
    """A strip plot of one case's samples: dots, quartile box, median and axis.

    Attributes:
        dots: each drawn sample's x position (:func:`encode_positions`); at most 600, evenly thinned.
        quartiles: the first quartile, median and third quartile as x levels (0 to 4,095).
        ticks: the axis ticks as (x level, label).
        shown, total: how many samples are drawn, of how many.
        description: the chart in words (its accessible name and tooltip).
    """

    dots: str
    quartiles: tuple[int, int, int]
    ticks: tuple[tuple[int, str], ...]
    shown: int
    total: int
    description: str

    def to_json(self, shared_ticks: bool = False) -> list[Any]:
        """The page's compact form; ``shared_ticks`` leaves out ticks the chart above has."""
        return [self.dots, list(self.quartiles), 0 if shared_ticks else [list(t) for t in self.ticks],
                self.description]


def sample_domain(values: Sequence[float]) -> tuple[float, float]:
    """The x range of a strip plot: the values' range with 5% room on each side, never empty."""
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or abs(lo) * 0.05 or 1.0
    low = lo - pad
    if lo >= 0 > low:  # durations and sizes cannot be negative: do not show negative ticks
        low = 0.0
    return low, hi + pad


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile (inclusive method, as numpy's default)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def thinned(values: Sequence[float]) -> list[float]:
    """At most 600 of ``values``, evenly spaced in their order."""
    if len(values) <= _MAX_DOTS:
        return list(values)
    return [values[i * len(values) // _MAX_DOTS] for i in range(_MAX_DOTS)]


def strip_description(values: Sequence[float], unit: str,
                      quarters: tuple[float, float, float] | None = None) -> str:
    """The strip plot in words: how many samples, the median and the quartiles (``quarters``
    when they were already computed from ``values``)."""
    q1, median, q3 = quarters or quartiles(values)
    return (f"{len(values)} samples; median {_numbers.format_value(median, unit)}, quartiles "
            f"{_numbers.format_value(q1, unit)} to {_numbers.format_value(q3, unit)}")


def strip_data(samples: Sequence[float], unit: str = "s", domain: tuple[float, float] | None = None) -> StripData | None:
    """The strip plot of ``samples`` for the page; None when no sample is finite.

    Args:
        samples: the values; NaN and infinite values are left out.
        unit: their unit (seconds get SI tick labels).
        domain: the x range (low, high) shared with another chart; default: the samples' own.

    Example:
        >>> data = strip_data([0.0010, 0.0011, 0.0012, 0.0015])
        >>> len(data.dots), data.ticks[0][1], data.total
        (8, '1.0 ms', 4)
        >>> data.quartiles[0] <= data.quartiles[1] <= data.quartiles[2]
        True
    """
    return _strip(_finite(samples), unit, domain, {})


def strip_pair(samples: Sequence[float], baseline: Sequence[float],
               unit: str = "s") -> tuple[StripData | None, StripData | None]:
    """The strip plots of a case's samples and of its baseline's on one x axis (the range of
    both), as :func:`strip_data` draws each; without baseline samples, the case's own axis.

    Example:
        >>> run, base = strip_pair([1.0, 1.1], [1.2, 1.3], "1")
        >>> run.ticks == base.ticks, run.total, base.total
        (True, 2, 2)
    """
    return strip_pairs([(samples, baseline, unit)])[0]


def strip_pairs(cases: Sequence[tuple[Sequence[float], Sequence[float], str]]
                ) -> list[tuple[StripData | None, StripData | None]]:
    """:func:`strip_pair` of each case's (samples, baseline samples, unit), for a whole run at
    once: each pair's axis ticks are worked out once, and the dots of every chart are placed
    and encoded in one pass.

    Example:
        >>> [(run, base)] = strip_pairs([([1.0, 1.1], [], "1")])
        >>> run.total, base
        (2, None)
    """
    parts: list[tuple[_StripParts | None, _StripParts | None]] = []
    for samples, baseline, unit in cases:
        values, base = _finite(samples), _finite(baseline)
        both = np.concatenate([values, base])
        domain = sample_domain([float(both.min()), float(both.max())]) if base.size else None
        ticks: dict[tuple[float, float], tuple[tuple[int, str], ...]] = {}
        parts.append((_strip_parts(values, unit, domain, ticks), _strip_parts(base, unit, domain, ticks)))
    drawn = [part.fractions for pair in parts for part in pair if part is not None]
    dots = encode_positions(np.concatenate(drawn)) if drawn else ""
    out: list[tuple[StripData | None, StripData | None]] = []
    at = 0
    for pair in parts:
        strips: list[StripData | None] = []
        for part in pair:
            if part is None:
                strips.append(None)
                continue
            end = at + 2 * part.fractions.size
            strips.append(StripData(dots[at:end], part.quartiles, part.ticks, int(part.fractions.size), part.total,
                                    part.description))
            at = end
        out.append((strips[0], strips[1]))
    return out


def _finite(samples: Sequence[float]) -> NDArray[np.float64]:
    """The finite ones of ``samples`` as floats, in their order."""
    values = np.asarray(samples, dtype=float).ravel()
    return values if np.isfinite(values).all() else values[np.isfinite(values)]


@dataclass(frozen=True)
class _StripParts:
    """A strip plot before its dots are encoded: their fractions of the axis."""

    fractions: NDArray[np.float64]
    quartiles: tuple[int, int, int]
    ticks: tuple[tuple[int, str], ...]
    total: int
    description: str


def _strip(values: NDArray[np.float64], unit: str, domain: tuple[float, float] | None,
           ticks: dict[tuple[float, float], tuple[tuple[int, str], ...]]) -> StripData | None:
    """:func:`strip_data` of finite ``values``; ``ticks`` holds the axis ticks per x range
    already worked out (filled here)."""
    part = _strip_parts(values, unit, domain, ticks)
    if part is None:
        return None
    return StripData(encode_positions(part.fractions), part.quartiles, part.ticks, int(part.fractions.size),
                     part.total, part.description)


def _strip_parts(values: NDArray[np.float64], unit: str, domain: tuple[float, float] | None,
                 ticks: dict[tuple[float, float], tuple[tuple[int, str], ...]]) -> _StripParts | None:
    """Everything of :func:`_strip` but the encoding of the dots."""
    if not values.size:
        return None
    listed = values.tolist()
    lo, hi = domain if domain is not None and domain[1] > domain[0] else sample_domain(listed)
    span = hi - lo
    drawn = values if values.size <= _MAX_DOTS else values[np.arange(_MAX_DOTS) * values.size // _MAX_DOTS]
    quarters = quartiles(listed)
    q1, median, q3 = ((q - lo) / span for q in quarters)
    if (lo, hi) not in ticks:
        ticks[lo, hi] = tuple((_level((t - lo) / span), label) for t, label in _svg.linear_ticks(lo, hi, unit))
    return _StripParts((drawn - lo) / span, (_level(q1), _level(median), _level(q3)), ticks[lo, hi],
                       int(values.size), strip_description(listed, unit, quarters))


@dataclass(frozen=True)
class HistoryData:
    """A case's history chart for the page: one median per run, oldest first.

    Attributes:
        values: each run's y position (:func:`encode_positions`, 0 is the bottom of the plot).
        y_ticks: (y level, label) of the value axis.
        x_ticks: the run positions that get a label (the script labels them -k and "this run").
        changepoints: (position of the first run after the shift, the change in words, tooltip).
        current: the tooltip of the run reported on (the last point).
        description: the chart in words.
        other_method: the positions of runs measured another way (an interleaved gate's trial
            medians, not a run's samples), drawn with their own marker and legend entry.
    """

    values: str
    y_ticks: tuple[tuple[int, str], ...]
    x_ticks: tuple[int, ...]
    changepoints: tuple[tuple[int, str, str], ...]
    current: str
    description: str
    other_method: tuple[int, ...] = ()

    def to_json(self) -> list[Any]:
        """The page's compact form (the legend of ``other_method`` only when a run has it)."""
        out = [self.values, [list(t) for t in self.y_ticks], list(self.x_ticks),
               [list(c) for c in self.changepoints], self.current, self.description]
        if self.other_method:
            out += [list(self.other_method), [OTHER_METHOD_LEGEND, PLAIN_LEGEND]]
        return out


OTHER_METHOD_LEGEND = "interleaved gate: baseline trial values"
"""The history legend of a run measured as an interleaved gate's trial values."""
PLAIN_LEGEND = "run samples (calibrax-run)"
"""The history legend of a run measured the usual way."""


def history_data(points: Sequence[HistoryPoint], changepoints: Sequence[Changepoint], unit: str,
                 measure: str = "time", other_method: frozenset[str] = frozenset()) -> HistoryData | None:
    """The history chart of one case for the page (the geometry of :func:`_svg.history_plot`);
    None for fewer than two runs. The runs in ``other_method`` (ids of runs whose medians are
    an interleaved gate's trial values) are marked apart.

    Example:
        >>> data = history_data([HistoryPoint(f"r{i}", 1e-3 * (1 + i % 2)) for i in range(4)], [], "s")
        >>> len(data.values) // 2, data.x_ticks, data.current
        (4, (0, 1, 2, 3), 'run r3: time 2 ms')
    """
    if len(points) < 2:
        return None
    values = [p.value for p in points]
    lo, hi = _svg.padded_range(values, 0.1)
    span = hi - lo
    last = len(points) - 1
    step = max(1, math.ceil(len(points) / 8))
    x_ticks = list(range(0, len(points), step))
    if last not in x_ticks:
        x_ticks.append(last)
    return HistoryData(
        values=encode_positions([(v - lo) / span for v in values]),
        y_ticks=tuple((_level((t - lo) / span), label) for t, label in _svg.linear_ticks(lo, hi, unit)),
        x_ticks=tuple(x_ticks),
        changepoints=tuple((cp.index, _svg.change_text(cp), _svg.changepoint_title(cp, unit)) for cp in changepoints),
        current=_svg.point_title(points[-1], unit, measure),
        description=_svg.history_description(points, changepoints, unit),
        other_method=tuple(i for i, p in enumerate(points) if p.run_id in other_method),
    )


def page_json(cases: Mapping[str, Mapping[str, Any]], measure: str) -> str:
    """The page's chart data as JSON that is safe inside a ``<script type="application/json">``:
    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no record text can end the block.

    Example:
        >>> text = page_json({"case-0": {"s": ["AA", [0, 0, 0], [], "</script>"]}}, "time")
        >>> "</script>" in text, json.loads(text)["cases"]["case-0"]["s"][3]
        (False, '</script>')
    """
    history = {**_svg.history_frame(), "x_label": "runs, oldest to newest", "y_label": measure}
    data = {"strip": STRIP_FRAME, "history": history, "cases": cases}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
