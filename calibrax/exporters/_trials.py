"""The trial chart of an interleaved gate: both sides' trial values of a case on one axis.

The ``ci=interleaved`` gate judges a case on one value per trial and side (its best or median
round, ``ci.trial_statistic``), measured in ABBA
order. The chart puts each trial at its place in that order (x) and its value on a shared
value axis (y), the baseline commit's and the candidate's in two marked series, so a drift
over the trials shows as a slope of both series, and the verdict's evidence is on the page.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.exporters import _numbers, _svg
from calibrax.exporters._page_charts import encode_positions
from calibrax.storage import TrialValue

__all__ = ["TrialData", "TrialValue", "trial_data", "trials_by_case"]


@dataclass(frozen=True)
class TrialData:
    """One case's trial chart for the page.

    Attributes:
        baseline, candidate: each side's trials as (x, y) fractions of the plot area, encoded
            pairwise (:func:`~calibrax.exporters._page_charts.encode_positions`: x then y).
        y_ticks: (y fraction in 4,096 levels, label) of the value axis.
        trials: how many trials the gate ran for the case (both sides).
        description: the chart in words (its accessible name).
        legend: the two series' names (baseline, candidate).
        value_label: what each trial's value is ("best round" or "median round").
    """

    baseline: str
    candidate: str
    y_ticks: tuple[tuple[int, str], ...]
    trials: int
    description: str
    legend: tuple[str, str]
    value_label: str = "median round"

    def to_json(self) -> list[Any]:
        """The page's compact form."""
        return [self.baseline, self.candidate, [list(t) for t in self.y_ticks], self.trials, self.description,
                list(self.legend)]


def trials_by_case(trials: Sequence[TrialValue], measure: str = "time") -> dict[str, tuple[TrialValue, ...]]:
    """Case key -> its trial values of ``measure`` in trial order.

    Example:
        >>> t = [TrialValue("k", "time", 2, "B", 2.0), TrialValue("k", "time", 1, "A", 1.0)]
        >>> [x.position for x in trials_by_case(t)["k"]]
        [1, 2]
    """
    out: dict[str, list[TrialValue]] = defaultdict(list)
    for t in trials:
        if t.measure == measure:
            out[t.case_key].append(t)
    return {key: tuple(sorted(found, key=lambda t: t.position)) for key, found in out.items()}


def trial_data(trials: Sequence[TrialValue], unit: str = "s",
               names: Mapping[str, str] | None = None) -> TrialData | None:
    """The trial chart of one case's trial values; None without a finite one on each side.

    Args:
        trials: the case's trial values of one measure (both sides, any order).
        unit: their unit (seconds get SI tick labels).
        names: the legend's words for ``baseline`` and ``candidate``, and under ``value`` what
            each trial's value is (default "median round").

    Example:
        >>> t = [TrialValue("k", "time", p, a, v) for p, a, v in [(1, "A", 1e-3), (2, "B", 2e-3), (3, "B", 2.1e-3),
        ...                                                        (4, "A", 1.1e-3)]]
        >>> data = trial_data(t)
        >>> data.trials, len(data.baseline) // 4, data.legend
        (4, 2, ('baseline', 'candidate'))
    """
    kept = sorted((t for t in trials if math.isfinite(t.value)), key=lambda t: t.position)
    sides = {arm: [t for t in kept if t.arm == arm] for arm in ("A", "B")}
    if not sides["A"] or not sides["B"]:
        return None
    lo, hi = _svg.padded_range([t.value for t in kept], 0.1)
    span = hi - lo
    order = sorted({t.position for t in kept})
    place = {p: i for i, p in enumerate(order)}
    n = len(order)

    def encoded(side: Sequence[TrialValue]) -> str:
        pairs = [f for t in side for f in ((place[t.position] + 0.5) / n, (t.value - lo) / span)]
        return encode_positions(pairs)

    words = {"baseline": "baseline", "candidate": "candidate", "value": "median round", **dict(names or {})}
    medians = {arm: statistics.median(t.value for t in side) for arm, side in sides.items()}
    description = (f"{n} trials in the order measured: baseline median {_numbers.format_value(medians['A'], unit)} "
                   f"over {len(sides['A'])} trials, candidate median {_numbers.format_value(medians['B'], unit)} "
                   f"over {len(sides['B'])} trials")
    return TrialData(
        baseline=encoded(sides["A"]),
        candidate=encoded(sides["B"]),
        y_ticks=tuple((round((t - lo) / span * 4095), label) for t, label in _svg.linear_ticks(lo, hi, unit)),
        trials=n,
        description=description,
        legend=(words["baseline"], words["candidate"]),
        value_label=words["value"],
    )
