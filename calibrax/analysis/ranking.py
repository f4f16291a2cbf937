"""Rank cases or configurations by a measure, with ties where confidence intervals overlap.

An entry's rank is 1 plus the number of entries that are clearly better than it: entries whose
confidence interval of the median lies wholly on the better side of its own. Entries whose
intervals overlap therefore share ranks, and each entry also gets a rank band: the best and the
worst rank its interval allows. Several measures combine by the mean of these ranks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from calibrax.analysis._common import AnalysisError, as_direction, finite_array
from calibrax.core.models import CaseResult, CaseStatus, Direction, Summary
from calibrax.core.registry import unknown_name_message
from calibrax.statistics.analyzer import summarize

__all__ = [
    "AggregateEntry",
    "AggregateRanking",
    "RankEntry",
    "Ranking",
    "aggregate_ranks",
    "rank_cases",
    "rank_samples",
    "rank_summaries",
]


@dataclass(frozen=True)
class RankEntry:
    """One ranked case or configuration.

    Attributes:
        label: its name.
        median: its median value.
        ci_low: lower bound of the median's confidence interval.
        ci_high: upper bound of the median's confidence interval.
        position: 1-based place when sorted by median, best first (equal medians by label).
        rank: 1 + the number of entries clearly better (intervals not overlapping); entries
            whose intervals overlap can share a rank.
        band: ``(rank, worst)``: the best and worst rank the intervals allow, where ``worst`` is
            the number of entries minus those clearly worse.
    """

    label: str
    median: float
    ci_low: float
    ci_high: float
    position: int
    rank: int
    band: tuple[int, int]


@dataclass(frozen=True)
class Ranking:
    """Entries ranked by one measure, in order of position (best first)."""

    measure: str
    direction: Direction
    entries: tuple[RankEntry, ...]

    def __getitem__(self, label: str) -> RankEntry:
        for e in self.entries:
            if e.label == label:
                return e
        raise KeyError(unknown_name_message("label", label, [e.label for e in self.entries]))


@dataclass(frozen=True)
class AggregateEntry:
    """One label's standing over several measures.

    Attributes:
        label: its name.
        mean_rank: mean of its ranks over the measures.
        mean_position: mean of its positions (breaks ties of ``mean_rank``).
        ranks: measure name -> its rank for that measure.
        position: 1-based place in the aggregate order.
    """

    label: str
    mean_rank: float
    mean_position: float
    ranks: Mapping[str, int]
    position: int


@dataclass(frozen=True)
class AggregateRanking:
    """The result of :func:`aggregate_ranks`.

    Attributes:
        measures: the measures combined.
        entries: labels present in every ranking, best first.
        dropped: labels missing from some ranking, left out of the aggregate.
    """

    measures: tuple[str, ...]
    entries: tuple[AggregateEntry, ...]
    dropped: tuple[str, ...]


def rank_summaries(summaries: Mapping[str, Summary], direction: Direction | str, measure: str = "value") -> Ranking:
    """Rank labelled summaries by median, tying entries whose median CIs overlap.

    Args:
        summaries: label -> summary (its median and ``ci_low``/``ci_high`` are used).
        direction: ``lower`` or ``higher`` is better; ``info`` is refused.
        measure: the measure's name, kept on the result.

    Example:
        >>> from calibrax.statistics import summarize
        >>> r = rank_summaries({"a": summarize([1.0, 1.1, 1.2]), "b": summarize([1.15, 1.2, 1.3]),
        ...                     "c": summarize([3.0, 3.1, 3.2])}, "lower", "time")
        >>> [(e.label, e.rank, e.band) for e in r.entries]
        [('a', 1, (1, 2)), ('b', 1, (1, 2)), ('c', 3, (3, 3))]

    References:
        Goldstein and Spiegelhalter, "League tables and their limitations", JRSS A 159, 1996
        (ranks with intervals).
    """
    d = as_direction(direction, f"Measure {measure!r}")
    if not summaries:
        raise AnalysisError(f"Nothing to rank by {measure!r}: no entries were given.")
    labels = list(summaries)
    med = finite_array([summaries[k].median for k in labels], f"{measure} medians")
    lo = finite_array([summaries[k].ci_low for k in labels], f"{measure} CI bounds")
    hi = finite_array([summaries[k].ci_high for k in labels], f"{measure} CI bounds")
    if np.any(lo > hi):
        bad = labels[int(np.argmax(lo > hi))]
        raise AnalysisError(f"The CI of {bad!r} has ci_low above ci_high; check its summary.")
    if d is Direction.LOWER:
        better = hi[None, :] < lo[:, None]  # better[i, j]: j is clearly better than i
    else:
        better = lo[None, :] > hi[:, None]
    sign = 1.0 if d is Direction.LOWER else -1.0
    order = sorted(range(len(labels)), key=lambda i: (sign * med[i], labels[i]))
    n = len(labels)
    entries = []
    for pos, i in enumerate(order, start=1):
        rank = 1 + int(better[i].sum())
        worst = n - int(better[:, i].sum())
        entries.append(RankEntry(labels[i], float(med[i]), float(lo[i]), float(hi[i]), pos, rank, (rank, worst)))
    return Ranking(measure, d, tuple(entries))


def rank_samples(
    samples: Mapping[str, ArrayLike], direction: Direction | str, measure: str = "value", level: float = 0.95
) -> Ranking:
    """Rank labelled samples by median with distribution-free CIs of the median.

    Example:
        >>> r = rank_samples({"jit": [1.0, 1.1, 0.9, 1.0, 1.05, 0.95], "eager": [5.0, 5.2, 4.9, 5.1, 5.0, 4.8]},
        ...                  "lower", "time")
        >>> [(e.label, e.rank) for e in r.entries]
        [('jit', 1), ('eager', 2)]

    References:
        Conover, Practical Nonparametric Statistics (3rd ed., 1999), section 3.2 (median CI);
        Goldstein and Spiegelhalter, JRSS A 159, 1996.
    """
    summaries = {}
    for label, values in samples.items():
        x = finite_array(values, f"Samples of {label!r}")
        if x.size == 0:
            raise AnalysisError(f"{label!r} has no samples of {measure!r}; leave it out or measure it.")
        summaries[label] = summarize(x, level)
    return rank_summaries(summaries, direction, measure)


def rank_cases(cases: Sequence[CaseResult], measure: str = "time") -> Ranking:
    """Rank a run's cases by one measure; labels are the case keys (benchmark and params).

    Only cases that ended ok and have samples of ``measure`` are ranked; the direction is the
    measure's own. A stored summary is used when present, otherwise one is computed.

    Example:
        >>> from calibrax.core import STANDARD_MEASURES, MeasureResult
        >>> def case(n, t):
        ...     m = MeasureResult(STANDARD_MEASURES["time"], (t, 1.01 * t, 0.99 * t))
        ...     return CaseResult("matmul", {"n": n}, CaseStatus.OK, {"time": m})
        >>> [e.label for e in rank_cases([case(256, 4.0), case(64, 1.0)]).entries]
        ['matmul{"n": 64}', 'matmul{"n": 256}']

    References:
        Goldstein and Spiegelhalter, "League tables and their limitations", JRSS A 159, 1996.
    """
    summaries: dict[str, Summary] = {}
    direction: Direction | None = None
    seen: set[str] = set()
    for case in cases:
        seen.update(case.measures)
        result = case.measures.get(measure)
        if case.status is not CaseStatus.OK or result is None or not result.samples:
            continue
        direction = result.measure.direction
        summaries[case.key] = result.summary or summarize(result.samples)
    if direction is None:
        if measure not in seen:
            raise AnalysisError(unknown_name_message("measure", measure, sorted(seen)))
        raise AnalysisError(f"No case that ended ok has samples of {measure!r}; nothing to rank.")
    return rank_summaries(summaries, direction, measure)


def aggregate_ranks(rankings: Sequence[Ranking]) -> AggregateRanking:
    """Combine rankings over several measures by each label's mean rank.

    Labels missing from any ranking are left out and listed in ``dropped``. Ties of the mean
    rank are broken by the mean position, then by label.

    Example:
        >>> t = rank_samples({"a": [1.0, 1.1, 1.2], "b": [2.0, 2.1, 2.2]}, "lower", "time")
        >>> m = rank_samples({"a": [9.0, 9.1, 9.2], "b": [5.0, 5.1, 5.2]}, "lower", "memory")
        >>> acc = rank_samples({"a": [0.9, 0.91, 0.92], "b": [0.8, 0.81, 0.82]}, "higher", "accuracy")
        >>> [(e.label, e.mean_rank) for e in aggregate_ranks([t, m, acc]).entries]
        [('a', 1.3333333333333333), ('b', 1.6666666666666667)]

    References:
        Demsar, "Statistical comparisons of classifiers over multiple data sets", JMLR 7, 2006
        (average ranks).
    """
    if not rankings:
        raise AnalysisError("aggregate_ranks needs at least one ranking, got none.")
    names = [r.measure for r in rankings]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise AnalysisError(f"Measure {dup!r} is ranked more than once; give one ranking per measure.")
    label_sets = [{e.label for e in r.entries} for r in rankings]
    common = set.intersection(*label_sets)
    dropped = tuple(sorted(set.union(*label_sets) - common))
    if not common:
        raise AnalysisError(
            f"No label appears in every ranking ({', '.join(r.measure for r in rankings)}); "
            "rank the same cases by each measure."
        )
    rows = []
    for label in common:
        ranks = {r.measure: r[label].rank for r in rankings}
        rows.append((float(np.mean(list(ranks.values()))),
                     float(np.mean([r[label].position for r in rankings])), label, ranks))
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    entries = tuple(AggregateEntry(label, mr, mp, ranks, pos)
                    for pos, (mr, mp, label, ranks) in enumerate(rows, start=1))
    return AggregateRanking(tuple(r.measure for r in rankings), entries, dropped)
