"""The CI gate against a stored baseline: a ratio of medians against a margin.

For each gated measure of each case that ended ok in both runs, ``ratio`` is the candidate's
median over the baseline's (inverted for higher-is-better measures, so a ratio above 1 is
always worse). It regresses when ``ratio > 1 + margin``, improves when
``ratio < 1 / (1 + margin)``, and passes otherwise. Runs on hardware with different
fingerprints are incomparable, never failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calibrax.core.errors import ConfigError
from calibrax.core.models import CaseResult, CaseStatus, Direction, Verdict, VerdictKind
from calibrax.core.result import RunRecord
from calibrax.storage import Store

__all__ = ["CheckResult", "Thresholds", "check_run", "compare_records"]


@dataclass(frozen=True)
class Thresholds:
    """Which measures the gate checks and the relative margin each may move by.

    Attributes:
        gate: the measures checked.
        margins: measure -> relative margin (0.25 allows 25% worse).
        benchmarks: benchmark -> measure -> margin, overriding ``margins``.

    Example:
        >>> Thresholds(margins={"time": 0.1}, benchmarks={"matmul": {"time": 0.3}}).margin("matmul", "time")
        0.3
    """

    gate: tuple[str, ...] = ("time",)
    margins: Mapping[str, float] = field(default_factory=lambda: {"time": 0.25})
    benchmarks: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def margin(self, benchmark: str, measure: str) -> float:
        """The margin for one benchmark's measure."""
        specific = self.benchmarks.get(benchmark, {})
        if measure in specific:
            return float(specific[measure])
        if measure in self.margins:
            return float(self.margins[measure])
        raise ConfigError(
            f"No margin for measure {measure!r}: add thresholds.margins.{measure}=<fraction> "
            f"(gated measures: {list(self.gate)})."
        )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Thresholds:
        """Build from the ``thresholds`` node of a (stored) config; bad margins raise ConfigError."""
        margins = {k: _fraction(f"thresholds.margins.{k}", v) for k, v in (cfg.get("margins") or {}).items()}
        per_bench = {
            b: {k: _fraction(f"thresholds.benchmarks.{b}.{k}", v) for k, v in (m or {}).items()}
            for b, m in (cfg.get("benchmarks") or {}).items()
        }
        gate = tuple(cfg.get("gate") or ("time",))
        missing = [m for m in gate if m not in margins]
        if missing:
            raise ConfigError(
                f"thresholds.gate lists {missing} without a margin; add thresholds.margins."
                f"{missing[0]}=<fraction>, e.g. 0.1 for 10%."
            )
        return cls(gate=gate, margins=margins, benchmarks=per_bench)


def _fraction(key: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = -1.0
    if not out >= 0:
        raise ConfigError(f"{key} must be a fraction >= 0 (0.1 means 10%), got {value!r}.")
    return out


@dataclass(frozen=True)
class CheckResult:
    """Verdicts of one run against one baseline."""

    run_id: str
    baseline_name: str
    baseline_run_id: str
    verdicts: tuple[Verdict, ...]

    @property
    def regressions(self) -> list[Verdict]:
        """The verdicts that fail the gate."""
        return [v for v in self.verdicts if v.failed]

    @property
    def counts(self) -> dict[str, int]:
        """Number of verdicts of each kind, every kind listed."""
        out = {k.value: 0 for k in VerdictKind}
        for v in self.verdicts:
            out[v.kind.value] += 1
        return out


def compare_records(candidate: RunRecord, baseline: RunRecord, thresholds: Thresholds) -> list[Verdict]:
    """Verdicts for every gated measure of every case in either run."""
    base_cases = {c.key: c for c in baseline.cases}
    cand_cases = {c.key: c for c in candidate.cases}
    comparable = _comparable(candidate, baseline)
    verdicts: list[Verdict] = []
    for key, case in cand_cases.items():
        if case.status is not CaseStatus.OK:
            continue
        for measure in thresholds.gate:
            margin = thresholds.margin(case.benchmark, measure)
            verdicts.append(_verdict(case, base_cases.get(key), measure, margin, comparable))
    for key, base in base_cases.items():
        if key not in cand_cases and base.status is CaseStatus.OK:
            for measure in thresholds.gate:
                margin = thresholds.margin(base.benchmark, measure)
                verdicts.append(_missing(base, measure, margin, "the candidate run has no such case"))
    return verdicts


def _comparable(candidate: RunRecord, baseline: RunRecord) -> bool:
    a, b = candidate.run.hardware, baseline.run.hardware
    return a is None or b is None or a.fingerprint == b.fingerprint


def _missing(case: CaseResult, measure: str, margin: float, why: str) -> Verdict:
    return Verdict(case.benchmark, case.params, measure, VerdictKind.MISSING, None, None, None, margin, why)


def _verdict(case: CaseResult, base: CaseResult | None, measure: str, margin: float, comparable: bool) -> Verdict:
    if base is None or base.status is not CaseStatus.OK or measure not in base.measures:
        return _missing(case, measure, margin, "the baseline has no ok result for this case")
    if measure not in case.measures:
        return _missing(case, measure, margin, "the candidate did not record this measure")
    cm, bm = case.measures[measure], base.measures[measure]
    if cm.summary is None or bm.summary is None:
        return _missing(case, measure, margin, "no samples to compare")
    cand, ref = cm.summary.median, bm.summary.median
    if not comparable:
        return Verdict(case.benchmark, case.params, measure, VerdictKind.INCOMPARABLE, None, ref, cand, margin,
                       "measured on hardware with a different fingerprint than the baseline")
    worse = cand / ref if cm.measure.direction is not Direction.HIGHER else ref / cand
    if worse > 1 + margin:
        kind, text = VerdictKind.REGRESSED, f"{(worse - 1) * 100:.1f}% worse, beyond the {margin:.0%} margin"
    elif worse < 1 / (1 + margin):
        kind, text = VerdictKind.IMPROVED, f"{(1 - 1 / worse) * 100:.1f}% better, beyond the {margin:.0%} margin"
    else:
        kind, text = VerdictKind.PASS, f"within the {margin:.0%} margin ({(worse - 1) * 100:+.1f}%)"
    return Verdict(case.benchmark, case.params, measure, kind, cand / ref, ref, cand, margin, text)


def check_run(store: Store, run_ref: str, baseline_name: str, thresholds: Thresholds | None = None) -> CheckResult:
    """Compare a stored run with a named baseline, store the verdicts and return them.

    Without ``thresholds``, the run's own stored ``thresholds`` config is used.

    Raises:
        NotFoundError: unknown run or baseline.
    """
    baseline = store.get_baseline(baseline_name)
    candidate = store.load_run(run_ref)
    reference = store.load_run(baseline.run_id)
    if thresholds is None:
        thresholds = Thresholds.from_config(candidate.run.config.get("thresholds") or {})
    verdicts = compare_records(candidate, reference, thresholds)
    store.add_verdicts(candidate.run.id, reference.run.id, verdicts)
    return CheckResult(candidate.run.id, baseline_name, reference.run.id, tuple(verdicts))


def summary_lines(result: CheckResult) -> Sequence[str]:
    """One line per regression, then the counts: the text the CLI prints."""
    lines = [f"REGRESSED {v.benchmark} {dict(v.params)} {v.measure}: {v.message}" for v in result.regressions]
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
    lines.append(f"{result.run_id} against baseline {result.baseline_name!r} ({result.baseline_run_id}): {counts or 'nothing to compare'}")
    return lines


__all__ += ["summary_lines"]
