"""Report rows: one per case and one per verdict, as the HTML, Markdown and LaTeX reports show
them, and the lookup of a case's verdict.

A row keeps the record it came from (``case`` or ``verdict``) next to the formatted texts, so a
user template can show any other field of the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calibrax.core import CaseResult, CaseStatus, RunRecord, Verdict, VerdictKind, canonical_params, measure_for
from calibrax.exporters._numbers import MISSING, format_interval, format_ratio, format_seconds, format_value
from calibrax.exporters._text import error_headline, format_params

__all__ = [
    "Outcome",
    "run_outcome",
    "verdict_counts_by_measure",
    "FAILED_STATUSES",
    "CaseView",
    "VerdictView",
    "case_key",
    "case_verdict",
    "case_views",
    "verdict_counts",
    "verdict_views",
    "verdicts_by_case",
]

FAILED_STATUSES = frozenset({CaseStatus.ERROR, CaseStatus.CRASHED, CaseStatus.TIMEOUT})
"""Statuses of a case that did not finish; their error text is shown."""


@dataclass(frozen=True)
class CaseView:
    """One case as a report row: its ``time`` statistics formatted, its verdict on ``time``.

    Attributes:
        index: position in the run (0-based), used for anchors.
        case: the record itself.
        params: the params as ``key=value`` text.
        median: median seconds per call, None without time samples.
        median_text, ci_text: the median and its confidence interval with SI units.
        ci_spread: the interval's width over the median (how noisy the timing is), None
            without a summary.
        n: number of time samples, None without a ``time`` measure.
        calls_per_round: calls timed per round, None when not recorded.
        compile_time: seconds XLA took to compile, None when not measured.
        compile_text: the compile time with an SI unit.
        verdict: the verdict on ``time`` against the baseline, if any.
        ratio_text: that verdict's candidate/baseline ratio.
        error_headline: the telling line of the error, empty for cases that finished.
    """

    index: int
    case: CaseResult
    params: str
    median: float | None
    median_text: str
    ci_text: str
    ci_spread: float | None
    n: int | None
    calls_per_round: Any
    compile_time: float | None
    compile_text: str
    verdict: Verdict | None
    ratio_text: str
    error_headline: str

    @property
    def benchmark(self) -> str:
        """The benchmark's name."""
        return self.case.benchmark

    @property
    def status(self) -> str:
        """The case status as text (``ok``, ``error``, ...)."""
        return self.case.status.value

    @property
    def failed(self) -> bool:
        """True when the case errored, crashed or timed out."""
        return self.case.status in FAILED_STATUSES

    @property
    def verdict_kind(self) -> str:
        """The verdict as text, empty when there is none."""
        return self.verdict.kind.value if self.verdict else ""


def case_views(record: RunRecord) -> list[CaseView]:
    """Build one row per case of ``record``, in the order they were measured.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK)
        >>> case = CaseResult("matmul", {"n": 8}, CaseStatus.ERROR, error="ValueError: n")
        >>> view = case_views(RunRecord(run, (case,)))[0]
        >>> view.params, view.median_text, view.error_headline
        ('n=8', '—', 'ValueError: n')
    """
    verdicts = verdicts_by_case(record)
    return [_case_view(i, case, verdicts) for i, case in enumerate(record.cases)]


def _case_view(index: int, case: CaseResult, verdicts: Mapping[str, Verdict]) -> CaseView:
    time = case.measures.get("time")
    summary = time.summary if time else None
    compile_result = case.measures.get("compile_time")
    compile_time = compile_result.summary.median if compile_result and compile_result.summary else None
    verdict = case_verdict(case, verdicts)
    return CaseView(
        index=index,
        case=case,
        params=format_params(case.params),
        median=summary.median if summary else None,
        median_text=format_seconds(summary.median if summary else None),
        ci_text=format_interval(summary.ci_low, summary.ci_high) if summary else MISSING,
        ci_spread=(summary.ci_high - summary.ci_low) / summary.median
        if summary and summary.median
        else None,
        n=(summary.n if summary else len(time.samples)) if time else None,
        calls_per_round=time.meta.get("calls_per_round") if time else None,
        compile_time=compile_time,
        compile_text=format_seconds(compile_time),
        verdict=verdict,
        ratio_text=format_ratio(verdict.ratio) if verdict else MISSING,
        error_headline=error_headline(case.error) if case.status in FAILED_STATUSES else "",
    )


@dataclass(frozen=True)
class VerdictView:
    """One verdict as a report row, its values formatted in the measure's unit.

    Attributes:
        verdict: the record itself.
        params: the params as ``key=value`` text.
        baseline_text, candidate_text: the two medians with units.
        ratio_text: candidate over baseline.
    """

    verdict: Verdict
    params: str
    baseline_text: str
    candidate_text: str
    ratio_text: str

    @property
    def benchmark(self) -> str:
        """The benchmark's name."""
        return self.verdict.benchmark

    @property
    def measure(self) -> str:
        """The measure compared."""
        return self.verdict.measure

    @property
    def kind(self) -> str:
        """The verdict as text (``regressed``, ``pass``, ...)."""
        return self.verdict.kind.value


def verdict_views(record: RunRecord) -> tuple[list[VerdictView], list[VerdictView]]:
    """Split the record's verdicts into (regressed, all others), each in record order.

    Values are formatted in the unit the case stored for the measure (the standard unit of the
    measure name when the case is not in the record).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK)
        >>> verdict_views(RunRecord(run, ()))
        ([], [])
    """
    units = {(c.key, name): m.measure.unit for c in record.cases for name, m in c.measures.items()}
    regressed: list[VerdictView] = []
    others: list[VerdictView] = []
    for verdict in record.verdicts:
        key = case_key(verdict.benchmark, verdict.params)
        unit = units.get((key, verdict.measure)) or measure_for(verdict.measure).unit
        view = VerdictView(
            verdict=verdict,
            params=format_params(verdict.params),
            baseline_text=format_value(verdict.baseline, unit),
            candidate_text=format_value(verdict.candidate, unit),
            ratio_text=format_ratio(verdict.ratio),
        )
        (regressed if verdict.kind is VerdictKind.REGRESSED else others).append(view)
    return regressed, others


def verdict_counts(record: RunRecord) -> list[tuple[str, int]]:
    """Count the verdicts per kind: regressed first, then the others in their declared order.

    Kinds with no verdict are left out.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> verdict_counts(RunRecord(RunInfo(id="r", started_at="", status=RunStatus.OK), ()))
        []
    """
    order = [VerdictKind.REGRESSED] + [k for k in VerdictKind if k is not VerdictKind.REGRESSED]
    counts = {kind: sum(1 for v in record.verdicts if v.kind is kind) for kind in order}
    return [(kind.value, count) for kind, count in counts.items() if count]


def verdict_counts_by_measure(record: RunRecord) -> list[tuple[str, list[tuple[str, int]]]]:
    """Count the verdicts per measure and kind, so two measures of one case are not added up.

    Measures come in first-seen order; within one, regressed first as in :func:`verdict_counts`.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> verdict_counts_by_measure(RunRecord(RunInfo(id="r", started_at="", status=RunStatus.OK), ()))
        []
    """
    order = [VerdictKind.REGRESSED] + [k for k in VerdictKind if k is not VerdictKind.REGRESSED]
    measures = list(dict.fromkeys(v.measure for v in record.verdicts))
    out = []
    for measure in measures:
        kinds = [v.kind for v in record.verdicts if v.measure == measure]
        out.append((measure, [(k.value, kinds.count(k)) for k in order if kinds.count(k)]))
    return out


@dataclass(frozen=True)
class Outcome:
    """What a run's exit code says, for the first line of a report.

    Attributes:
        passed: the run would exit 0 (every case ran, nothing regressed, no gating violation).
        headline: why, in a few words (``ok``, ``1 regressed``, ``2 failed``).
    """

    passed: bool
    headline: str


def run_outcome(record: RunRecord, validation: Any = None, validation_gate: bool = False) -> Outcome:
    """The verdict a report's title must agree with: the same rules as the exit code.

    A case that did not end ok (exit 3), then a regressed verdict or a violation of a gating
    validation check (exit 1), fail the run; otherwise it passes with its status.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run_outcome(RunRecord(RunInfo(id="r", started_at="", status=RunStatus.OK), ()))
        Outcome(passed=True, headline='ok')
    """
    problems = []
    failed = sum(1 for c in record.cases if c.status is not CaseStatus.OK)
    if failed:
        problems.append(f"{failed} failed")
    regressed = sum(1 for v in record.verdicts if v.kind is VerdictKind.REGRESSED)
    if regressed:
        problems.append(f"{regressed} regressed")
    violations = sum(1 for e in validation or () if not e.passed) if validation_gate else 0
    if violations:
        problems.append(f"{violations} validation violation{'s' if violations != 1 else ''}")
    if problems:
        return Outcome(False, ", ".join(problems))
    return Outcome(record.run.status.value == "ok", record.run.status.value)


def verdicts_by_case(record: RunRecord, measure: str = "time") -> dict[str, Verdict]:
    """Index the record's verdicts on ``measure`` by case key (benchmark plus canonical params).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK)
        >>> verdicts_by_case(RunRecord(run=run, cases=()))
        {}
    """
    return {case_key(v.benchmark, v.params): v for v in record.verdicts if v.measure == measure}


def case_key(benchmark: str, params: Mapping[str, Any]) -> str:
    """The key of a case across runs, equal to :attr:`CaseResult.key`.

    Example:
        >>> case_key("matmul", {"n": 8})
        'matmul{"n": 8}'
    """
    return f"{benchmark}{canonical_params(params)}"


def case_verdict(case: CaseResult, index: Mapping[str, Verdict]) -> Verdict | None:
    """Return the verdict of ``case`` from an index built by :func:`verdicts_by_case`."""
    return index.get(case.key)
