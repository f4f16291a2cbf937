"""Several runs (or sweep points) side by side: speedups against a reference, and winners.

For each case and measure that two or more runs measured, every run gets its speedup over the
reference run with a bootstrap confidence interval of the ratio of medians. Speedups are
direction-aware: above 1 is better, whether lower or higher values are better (for ``info``
measures the speedup is the plain ratio, run over reference, and no winner is named).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibrax.analysis._common import AnalysisError
from calibrax.core.models import CaseStatus, Direction, Measure
from calibrax.core.registry import unknown_name_message
from calibrax.core.result import RunRecord

__all__ = ["Comparison", "MeasureComparison", "RunMeasure", "compare_runs", "ratio_ci"]


@dataclass(frozen=True)
class RunMeasure:
    """One run's value of a case and measure, against the reference run.

    Attributes:
        run_id: the run.
        n: number of samples.
        median: median of the samples.
        ratio: ``median / reference median``.
        speedup: how many times better than the reference (``reference / median`` when lower is
            better, ``median / reference`` when higher is better, ``ratio`` for info measures).
        ci_low: lower bound of the speedup's confidence interval (NaN when none could be made).
        ci_high: upper bound of the speedup's confidence interval.
        ci_method: ``BCa`` or ``percentile`` (bootstrap), ``exact`` (no spread in either run),
            ``reference`` (the reference itself) or ``none`` (fewer than 2 samples, or a zero
            median).
    """

    run_id: str
    n: int
    median: float
    ratio: float
    speedup: float
    ci_low: float
    ci_high: float
    ci_method: str


@dataclass(frozen=True)
class MeasureComparison:
    """One case and measure across runs.

    Attributes:
        benchmark: the benchmark.
        params: the case's grid point.
        measure: the measure's name, unit and direction.
        reference: the run every speedup is relative to (the chosen reference run, or the first
            run with this case when the chosen one lacks it).
        entries: one per run with this case and measure, in the order the runs were given.
        best: the run with the best median (None for info measures).
        winner: ``best`` when it is clearly better than every other run (each speedup CI of
            ``best`` over another run lies above 1), else None.
        note: the outcome in words, for reports.
    """

    benchmark: str
    params: Mapping[str, Any]
    measure: Measure
    reference: str
    entries: tuple[RunMeasure, ...]
    best: str | None
    winner: str | None
    note: str


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare_runs`.

    Attributes:
        reference: the chosen reference run.
        run_ids: the runs compared, in the order given.
        rows: one per case and measure present in two or more runs, in order of appearance.
        level: confidence level of every interval.
    """

    reference: str
    run_ids: tuple[str, ...]
    rows: tuple[MeasureComparison, ...]
    level: float


def _median_ratio(num: NDArray[np.float64], den: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    return np.asarray(np.median(num, axis=axis) / np.median(den, axis=axis))


def ratio_ci(
    num: ArrayLike,
    den: ArrayLike,
    *,
    level: float = 0.95,
    n_resamples: int = 9999,
    rng: np.random.Generator | int | None = 0,
) -> tuple[float, float, str]:
    """Bootstrap confidence interval of ``median(num) / median(den)`` from independent samples.

    BCa is tried first (scipy supports it for two-sample statistics); when it cannot be formed
    (its jackknife acceleration is 0/0 when the leave-one-out medians tie, as in small
    symmetric samples) the percentile interval is used. Samples
    with no spread give the exact ratio; fewer than 2 samples or a zero median give NaN.

    Returns:
        ``(low, high, method)`` with method ``BCa``, ``percentile``, ``exact`` or ``none``.

    Example:
        >>> gen = np.random.default_rng(0)
        >>> lo, hi, method = ratio_ci(2 * gen.lognormal(0, 0.02, 20), gen.lognormal(0, 0.02, 20))
        >>> bool(1.9 < lo < 2.0 < hi < 2.1), method
        (True, 'BCa')
        >>> ratio_ci([2.0, 2.1, 1.9, 2.0, 2.05, 1.95], [1.0, 1.05, 0.95, 1.0, 1.02, 0.98])[2]
        'percentile'

    References:
        Efron, "Better bootstrap confidence intervals", JASA 82, 1987 (BCa); Kalibera and Jones,
        "Rigorous benchmarking in reasonable time", ISMM 2013 (ratios of benchmark results).
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, got {level}.")
    if a.size < 2 or b.size < 2 or np.median(b) == 0 or np.median(a) == 0:
        return float("nan"), float("nan"), "none"
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        r = float(a[0] / b[0])
        return r, r, "exact"
    gen = np.random.default_rng(rng)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = stats.bootstrap((a, b), _median_ratio, vectorized=True, paired=False, confidence_level=level,
                                      n_resamples=n_resamples, method=method, rng=gen)
            except ValueError:
                continue
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(lo) and np.isfinite(hi):
            return lo, hi, method
    return float("nan"), float("nan"), "none"


def _speedup_of(
    run: NDArray[np.float64], other: NDArray[np.float64], direction: Direction, level: float, n_resamples: int,
    rng: np.random.Generator,
) -> tuple[float, float, float, str]:
    """Speedup of ``run`` over ``other`` (above 1 is better) with its CI."""
    num, den = (other, run) if direction is Direction.LOWER else (run, other)
    med_den = float(np.median(den))
    point = float(np.median(num)) / med_den if med_den != 0 else float("nan")
    lo, hi, method = ratio_ci(num, den, level=level, n_resamples=n_resamples, rng=rng)
    return point, lo, hi, method


def _pick_reference(runs: Sequence[RunRecord], reference: str | int) -> int:
    ids = [r.run.id for r in runs]
    if isinstance(reference, int):
        if not -len(runs) <= reference < len(runs):
            raise AnalysisError(f"reference index {reference} is out of range for {len(runs)} runs.")
        return reference % len(runs)
    if reference not in ids:
        raise AnalysisError(unknown_name_message("reference run", reference, ids))
    return ids.index(reference)


def _collect(
    runs: Sequence[RunRecord], measures: Sequence[str] | None
) -> dict[tuple[str, str], list[tuple[int, Any, Measure, NDArray[np.float64]]]]:
    """(case key, measure) -> [(run position, params, measure, samples)] over ok cases with samples."""
    table: dict[tuple[str, str], list[tuple[int, Any, Measure, NDArray[np.float64]]]] = {}
    seen: set[str] = set()
    for pos, record in enumerate(runs):
        for case in record.cases:
            if case.status is not CaseStatus.OK:
                continue
            for name, result in case.measures.items():
                seen.add(name)
                if result.samples and (measures is None or name in measures):
                    samples = np.asarray(result.samples, dtype=float)
                    table.setdefault((case.key, name), []).append((pos, case, result.measure, samples))
    for name in measures or ():
        if name not in seen:
            raise AnalysisError(unknown_name_message("measure", name, sorted(seen)))
    return table


def _winner(
    found: list[tuple[int, Any, Measure, NDArray[np.float64]]], entries: list[RunMeasure], ref_pos: int,
    direction: Direction, level: float, n_resamples: int, rng: np.random.Generator,
) -> tuple[str | None, str | None, str]:
    """The best run by median, and whether its speedup CI over every other run lies above 1."""
    if direction is Direction.INFO:
        return None, None, "info measure: no direction is better, so no winner"
    sign = 1.0 if direction is Direction.HIGHER else -1.0
    best = max(range(len(entries)), key=lambda i: sign * entries[i].median)
    best_id = entries[best].run_id
    for j, other in enumerate(found):
        if j == best:
            continue
        if j == ref_pos:  # the reference's entry already holds best-over-reference
            lo = entries[best].ci_low
        elif best == ref_pos:
            hi = entries[j].ci_high  # other-over-reference, so best-over-other is above 1 when hi < 1
            lo = 1 / hi if hi > 0 else float("nan")
        else:
            lo = _speedup_of(found[best][3], other[3], direction, level, n_resamples, rng)[1]
        if not lo > 1:
            return best_id, None, f"no clear winner: the interval of {best_id} over {entries[j].run_id} reaches 1"
    return best_id, best_id, f"{best_id} is clearly best"


def _row(
    runs: Sequence[RunRecord], found: list[tuple[int, Any, Measure, NDArray[np.float64]]], ref_choice: int,
    level: float, n_resamples: int, rng: np.random.Generator,
) -> MeasureComparison:
    positions = [f[0] for f in found]
    ref_pos = positions.index(ref_choice) if ref_choice in positions else 0
    case, measure, ref_samples = found[ref_pos][1], found[ref_pos][2], found[ref_pos][3]
    ref_median = float(np.median(ref_samples))
    entries = []
    for j, (pos, _, _, samples) in enumerate(found):
        med = float(np.median(samples))
        ratio = med / ref_median if ref_median != 0 else float("nan")
        if j == ref_pos:
            entries.append(RunMeasure(runs[pos].run.id, samples.size, med, ratio, 1.0, 1.0, 1.0, "reference"))
            continue
        direction = Direction.HIGHER if measure.direction is Direction.INFO else measure.direction
        point, lo, hi, method = _speedup_of(samples, ref_samples, direction, level, n_resamples, rng)
        entries.append(RunMeasure(runs[pos].run.id, samples.size, med, ratio, point, lo, hi, method))
    best, winner, note = _winner(found, entries, ref_pos, measure.direction, level, n_resamples, rng)
    return MeasureComparison(case.benchmark, case.params, measure, entries[ref_pos].run_id, tuple(entries),
                             best, winner, note)


def compare_runs(
    runs: Sequence[RunRecord],
    reference: str | int = 0,
    *,
    measures: Sequence[str] | None = None,
    level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> Comparison:
    """Put runs side by side: per case and measure, speedups over a reference run with CIs.

    Cases are matched across runs by benchmark and params; only cases that ended ok and
    measures with samples count, and a case and measure appears when two or more runs have it.

    Args:
        runs: the runs (or the runs of a sweep's points), at least two.
        reference: the reference run's id, or its position in ``runs``.
        measures: only these measure names (default: every measure found).
        level: confidence level of the intervals.
        n_resamples: bootstrap resamples per interval.
        seed: seed of the bootstrap; equal inputs and seeds give equal results.

    Example:
        >>> from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, MeasureResult
        >>> from calibrax.core import RunInfo, RunStatus
        >>> def run(rid, scale):
        ...     samples = tuple(scale * (1 + 0.01 * k) for k in range(-5, 6))
        ...     case = CaseResult("mlp", {}, CaseStatus.OK, {"time": MeasureResult(STANDARD_MEASURES["time"], samples)})
        ...     return RunRecord(RunInfo(rid, "", RunStatus.OK), (case,))
        >>> row = compare_runs([run("old", 2.0), run("new", 1.0)], "old", n_resamples=999).rows[0]
        >>> row.entries[1].speedup, row.winner
        (2.0, 'new')

    References:
        Efron, "Better bootstrap confidence intervals", JASA 82, 1987; Kalibera and Jones,
        "Rigorous benchmarking in reasonable time", ISMM 2013.
    """
    if len(runs) < 2:
        raise AnalysisError(f"compare_runs needs at least two runs to compare, got {len(runs)}.")
    ids = [r.run.id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise AnalysisError(f"Run {dup!r} is given more than once; give each run once.")
    if n_resamples < 1:
        raise AnalysisError(f"n_resamples must be at least 1, got {n_resamples}.")
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, got {level}.")
    ref = _pick_reference(runs, reference)
    rng = np.random.default_rng(seed)
    rows = [_row(runs, found, ref, level, n_resamples, rng)
            for found in _collect(runs, measures).values() if len(found) >= 2]
    return Comparison(ids[ref], tuple(ids), tuple(rows), level)
