"""What the report charts show, taken from run records: scaling series, roofline points,
Pareto points and candidate/baseline ratios.

The HTML report (inline SVG) and the publication figures (matplotlib) draw the same data, so
both read it from here. Each builder returns None (or nothing) with a one-line reason when its
measures are absent, and the report shows that reason instead of an empty chart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.analysis import AnalysisError, ParetoAnalysis, ScalingFit, fit_power_law, pareto_analysis, ratio_ci
from calibrax.core import (
    CaseResult,
    CaseStatus,
    Direction,
    ExporterError,
    MeasureResult,
    RunRecord,
    Verdict,
    measure_for,
)
from calibrax.exporters import _rows, _text

__all__ = [
    "ParetoData",
    "RatioRow",
    "RooflineData",
    "RooflinePoint",
    "ScalingPoint",
    "ScalingSeries",
    "case_label",
    "pareto_data",
    "ratio_rows",
    "roofline_data",
    "scaling_series",
]

_PARETO_FALLBACKS = ("peak_rss", "device_peak_memory", "compiled_peak_memory", "energy", "compile_time")


def case_label(case: CaseResult, run_id: str | None = None) -> str:
    """A case as ``benchmark (params)``, prefixed by its run in a multi-run chart.

    Example:
        >>> from calibrax.core import CaseResult, CaseStatus
        >>> case_label(CaseResult("matmul", {"n": 8}, CaseStatus.OK), "r1")
        'r1: matmul (n=8)'
    """
    params = _text.format_params(case.params)
    text = f"{case.benchmark} ({params})" if params else case.benchmark
    return f"{run_id}: {text}" if run_id else text


def _ok_cases(records: Sequence[RunRecord]) -> list[tuple[RunRecord, CaseResult]]:
    return [(r, c) for r in records for c in r.cases if c.status is CaseStatus.OK]


def _median(result: MeasureResult | None) -> float | None:
    """The measure's median (from its summary, else from its samples); None when not finite."""
    if result is None:
        return None
    if result.summary is not None:
        value = result.summary.median
    elif result.samples:
        ordered = sorted(result.samples)
        mid = len(ordered) // 2
        value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    else:
        return None
    return float(value) if math.isfinite(value) else None


# Scaling -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalingPoint:
    """One size of a scaling series: the median and its confidence interval."""

    x: float
    median: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ScalingSeries:
    """A benchmark's measure over one numeric param, the other params fixed, with a power law.

    Attributes:
        benchmark: the benchmark.
        param: the swept param (the x axis).
        fixed: the other params, the same for every point.
        measure: the measure on the y axis; ``unit`` its unit.
        points: one per size, by size (the first run's case when several runs measured one size).
        fit: ``y = a * x^b`` fitted to the medians; None when the fit failed.
    """

    benchmark: str
    param: str
    fixed: Mapping[str, Any]
    measure: str
    unit: str
    points: tuple[ScalingPoint, ...]
    fit: ScalingFit | None

    @property
    def title(self) -> str:
        """The series in words: ``matmul: time over n (dtype=float32)``."""
        fixed = _text.format_params(self.fixed)
        return f"{self.benchmark}: {self.measure} over {self.param}" + (f" ({fixed})" if fixed else "")

    @property
    def law(self) -> str:
        """The fitted law with its exponent's CI and R², or why there is none."""
        if self.fit is None:
            return "no power law could be fitted"
        b = self.fit["b"]
        return (f"{self.measure} ∝ {self.param}^{b.value:.3g} (95% CI {b.ci_low:.3g} to {b.ci_high:.3g}, "
                f"R² {self.fit.r_squared:.3f})")


def scaling_series(
    records: Sequence[RunRecord], measure: str = "time", param: str | None = None, min_points: int = 3
) -> list[ScalingSeries]:
    """Every series where one numeric param takes ``min_points`` or more values, the rest fixed.

    Args:
        records: the runs (one run's grid, or the members of a sweep).
        measure: the measure on the y axis.
        param: only series over this param (default: every numeric param).
        min_points: fewest distinct sizes a series needs.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus, STANDARD_MEASURES, MeasureResult
        >>> def case(n):
        ...     m = MeasureResult(STANDARD_MEASURES["time"], (1e-9 * n**2,))
        ...     return CaseResult("matmul", {"n": n}, CaseStatus.OK, {"time": m})
        >>> run = RunRecord(RunInfo("r1", "", RunStatus.OK), tuple(case(n) for n in (8, 16, 32)))
        >>> [s] = scaling_series([run])
        >>> s.param, len(s.points), round(s.fit["b"].value, 3)
        ('n', 3, 2.0)
    """
    groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[float, ScalingPoint]] = defaultdict(dict)
    fixed_of: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    units: dict[str, str] = {}
    for _, case in _ok_cases(records):
        result = case.measures.get(measure)
        median = _median(result)
        if result is None or median is None or median <= 0:
            continue
        summary = result.summary
        low, high = (summary.ci_low, summary.ci_high) if summary else (median, median)
        for name, value in case.params.items():
            if param is not None and name != param:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                continue
            rest = {k: v for k, v in case.params.items() if k != name}
            key = (case.benchmark, name, tuple(sorted((k, repr(v)) for k, v in rest.items())))
            fixed_of.setdefault(key, rest)
            units.setdefault(case.benchmark, result.measure.unit)
            groups[key].setdefault(float(value), ScalingPoint(float(value), median, low, high))
    out = []
    for key, by_size in groups.items():
        if len(by_size) < min_points:
            continue
        points = tuple(by_size[x] for x in sorted(by_size))
        try:
            fit: ScalingFit | None = fit_power_law([p.x for p in points], [p.median for p in points])
        except AnalysisError:
            fit = None
        out.append(ScalingSeries(key[0], key[1], fixed_of[key], measure, units[key[0]], points, fit))
    return out


# Roofline ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RooflinePoint:
    """A case under the roof: FLOPs per byte and the FLOP/s it reached (median)."""

    label: str
    intensity: float
    achieved: float


@dataclass(frozen=True)
class RooflineData:
    """The cases and the roof they sit under.

    Attributes:
        points: one per case with both measures.
        peak_flops: the compute roof in FLOP/s; None when no peaks are known.
        bandwidth: the memory roof's slope in bytes/s; None when no peaks are known.
        source: where the peaks come from (the roofline profiler's record, the hardware config).
    """

    points: tuple[RooflinePoint, ...]
    peak_flops: float | None
    bandwidth: float | None
    source: str

    @property
    def ridge(self) -> float | None:
        """The intensity where the two roofs meet (FLOP/byte), None without peaks."""
        if self.peak_flops and self.bandwidth:
            return self.peak_flops / self.bandwidth
        return None


def _peaks(records: Sequence[RunRecord]) -> tuple[float | None, float | None, str]:
    """Peaks from the roofline profiler's stored meta first, then the run's hardware config."""
    for _, case in _ok_cases(records):
        meta = case.measures["roofline_efficiency"].meta if "roofline_efficiency" in case.measures else {}
        peak, bandwidth = meta.get("peak_flops"), meta.get("bandwidth")
        if isinstance(peak, (int, float)) and isinstance(bandwidth, (int, float)) and _positive(peak) and _positive(bandwidth):
            return float(peak), float(bandwidth), str(meta.get("peak_source") or "the roofline profiler")
    for record in records:
        hardware = record.run.config.get("hardware")
        if isinstance(hardware, Mapping):
            peak, bandwidth = hardware.get("peak_flops"), hardware.get("bandwidth")
            which = ""
            if isinstance(peak, Mapping):  # per-dtype peaks: the fp32 roof, else the highest one
                peaks: Mapping[str, Any] = peak
                dtype = "fp32" if _positive(peaks.get("fp32")) else max(
                    (k for k in peaks if _positive(peaks[k])), key=lambda k: peaks[k], default="")
                peak, which = (peaks[dtype], f", {dtype} peak") if dtype else (None, "")
            if isinstance(peak, (int, float)) and isinstance(bandwidth, (int, float)) and _positive(peak) \
                    and _positive(bandwidth):
                name = hardware.get("name")
                label = f"hardware config {name}" if name else "hardware config"
                return float(peak), float(bandwidth), label + which
    return None, None, ""


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def roofline_data(records: Sequence[RunRecord]) -> tuple[RooflineData | None, str]:
    """The roofline of the runs' cases, or None and why it cannot be drawn.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> roofline_data([RunRecord(RunInfo("r1", "", RunStatus.OK), ())])[1][:40]
        'No case has arithmetic_intensity and ach'
    """
    multi = len(records) > 1
    points = []
    for record, case in _ok_cases(records):
        intensity = _median(case.measures.get("arithmetic_intensity"))
        achieved = _median(case.measures.get("achieved_flops"))
        if intensity and achieved and intensity > 0 and achieved > 0:
            points.append(RooflinePoint(case_label(case, record.run.id if multi else None), intensity, achieved))
    if not points:
        return None, ("No case has arithmetic_intensity and achieved_flops measures: add the roofline profiler "
                      "(profile.profilers=[flops,roofline]) to place cases under the roof.")
    peak, bandwidth, source = _peaks(records)
    return RooflineData(tuple(points), peak, bandwidth, source), ""


# Pareto --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParetoData:
    """Cases on two measures, sorted into fronts.

    Attributes:
        measures: the two measure names (x, then y); ``units`` their units.
        labels: one per point, in the order of ``analysis.points``.
        analysis: the fronts (front 0 is the Pareto front).
    """

    measures: tuple[str, str]
    units: tuple[str, str]
    labels: tuple[str, ...]
    analysis: ParetoAnalysis


def _directed(records: Sequence[RunRecord], name: str) -> tuple[int, Direction | None]:
    """How many ok cases have ``name``, and its direction."""
    count, direction = 0, None
    for _, case in _ok_cases(records):
        result = case.measures.get(name)
        if result is not None and _median(result) is not None:
            count += 1
            direction = result.measure.direction
    return count, direction


def pareto_data(records: Sequence[RunRecord], measures: Sequence[str] | None = None) -> tuple[ParetoData | None, str]:
    """The Pareto fronts of the cases over two measures, or None and why there are none.

    Args:
        records: the runs whose ok cases are the points.
        measures: the x and y measures (each must be lower- or higher-is-better); default:
            ``time`` against the first of peak_rss, device_peak_memory, compiled_peak_memory,
            energy and compile_time that two or more cases have.

    Raises:
        ExporterError: ``measures`` is not two measure names.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> pareto_data([RunRecord(RunInfo("r1", "", RunStatus.OK), ())])[1][:38]
        'Fewer than two cases have both time an'
    """
    if measures is None:
        chosen = next((m for m in _PARETO_FALLBACKS if _directed(records, m)[0] >= 2), _PARETO_FALLBACKS[0])
        pair = ("time", chosen)
    else:
        if isinstance(measures, str) or len(measures) != 2 or not all(isinstance(m, str) for m in measures):
            raise ExporterError(f"pareto must name two measures, e.g. [time, peak_rss], got {measures!r}.")
        pair = (str(measures[0]), str(measures[1]))
    directions = []
    for name in pair:
        direction = _directed(records, name)[1] or measure_for(name).direction
        if direction is Direction.INFO:
            return None, f"{name} has no better direction (it is info only), so it cannot be a Pareto objective."
        directions.append(direction)
    multi = len(records) > 1
    rows, labels, units = [], [], ["", ""]
    for record, case in _ok_cases(records):
        x, y = _median(case.measures.get(pair[0])), _median(case.measures.get(pair[1]))
        if x is None or y is None:
            continue
        rows.append((x, y))
        labels.append(case_label(case, record.run.id if multi else None))
        units = [case.measures[pair[0]].measure.unit, case.measures[pair[1]].measure.unit]
    if len(rows) < 2:
        return None, (f"Fewer than two cases have both {pair[0]} and {pair[1]}; set the exporter's pareto setting "
                      "to two measures the cases have (e.g. [time, compile_time]).")
    analysis = pareto_analysis(rows, directions, labels)
    return ParetoData(pair, (units[0], units[1]), tuple(labels), analysis), ""


# Candidate against baseline ------------------------------------------------------------------


@dataclass(frozen=True)
class RatioRow:
    """One case's candidate/baseline ratio of medians with its confidence interval.

    Attributes:
        label: the case.
        ratio: candidate median over baseline median.
        ci_low, ci_high: the ratio's confidence interval (NaN when none could be made).
        verdict: the verdict's kind when the run was checked, else empty.
    """

    label: str
    ratio: float
    ci_low: float
    ci_high: float
    verdict: str = ""


def ratio_rows(record: RunRecord, baseline: RunRecord, measure: str = "time",
               n_resamples: int = 1999) -> list[RatioRow]:
    """Each case both runs measured: the ratio of medians, its CI (the verdict's when there is
    one, else a bootstrap of the samples) and the verdict.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> empty = RunRecord(RunInfo("r1", "", RunStatus.OK), ())
        >>> ratio_rows(empty, empty)
        []
    """
    verdicts: Mapping[str, Verdict] = _rows.verdicts_by_case(record, measure)
    base = {case.key: case for _, case in _ok_cases([baseline])}
    rows = []
    for _, case in _ok_cases([record]):
        other = base.get(case.key)
        new, old = case.measures.get(measure), other.measures.get(measure) if other else None
        new_median, old_median = _median(new), _median(old)
        if new is None or old is None or not new_median or not old_median:
            continue
        verdict = verdicts.get(case.key)
        if verdict is not None and verdict.ci_low is not None and verdict.ci_high is not None:
            low, high = verdict.ci_low, verdict.ci_high
        else:
            low, high, _ = ratio_ci(new.samples, old.samples, n_resamples=n_resamples)
        rows.append(RatioRow(case_label(case), new_median / old_median, low, high,
                             verdict.kind.value if verdict else ""))
    return rows
