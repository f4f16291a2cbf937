"""A benchmark's stored history, case by case, with the changepoints found in it.

:func:`benchmark_history` reads every ok result of one benchmark and measure from the store,
groups them by case (one group per distinct params), and runs
:func:`calibrax.analysis.changepoint.detect_changepoints` over each case's per-run medians.
Excluded runs and cases are not in it; an accepted run starts a new segment that changepoints
are searched for on their own (in every case, or only in the benchmark, case or measure the
acceptance names). ``calibrax history`` renders what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from calibrax.analysis.changepoint import Changepoint, HistoryPoint, Method, detect_changepoints
from calibrax.core.errors import NotFoundError
from calibrax.core.models import canonical_params
from calibrax.storage import Annotation, Store

__all__ = [
    "MIN_CHANGEPOINT_RUNS", "BenchmarkHistory", "CaseHistory", "HistoryRun", "benchmark_history", "segment_starts",
]

MIN_CHANGEPOINT_RUNS = 10  # fewer runs than this: no changepoint search (two segments of 5)


@dataclass(frozen=True)
class HistoryRun:
    """One run's summary of one case's measure, as the store keeps it."""

    run_id: str
    started_at: str  # ISO 8601, UTC
    git_commit: str | None  # the commit the run measured, None outside git
    params: Mapping[str, Any]  # the case's params
    median: float  # median of the measure's samples, in the measure's unit
    ci_low: float | None  # 95% CI of the median, None when there were too few samples
    ci_high: float | None
    n: int  # number of samples


@dataclass(frozen=True)
class CaseHistory:
    """One case's runs, oldest first, and the level shifts found in their medians."""

    params: Mapping[str, Any]  # the case's params
    runs: tuple[HistoryRun, ...]  # oldest run first
    changepoints: tuple[Changepoint, ...]  # each ``index`` points into ``runs``
    note: str | None = None  # why changepoints were not searched for, None when they were
    annotations: tuple[Annotation, ...] = ()  # of its runs, and its exclusions, that concern it, in the order made

    def to_dict(self) -> dict[str, Any]:
        """The case as ``calibrax history --json`` prints it.

        Example:
            >>> run = HistoryRun("r1", "2026-11-26T00:00:00+00:00", None, {"n": 64}, 1e-3, None, None, 20)
            >>> CaseHistory({"n": 64}, (run,), (), "1 runs: changepoints need at least 10").to_dict()["runs"][0]["n"]
            20
        """
        return {"params": dict(self.params), "runs": [asdict(r) for r in self.runs],
                "changepoints": [asdict(c) for c in self.changepoints], "note": self.note,
                "annotations": [a.to_dict() for a in self.annotations]}


@dataclass(frozen=True)
class BenchmarkHistory:
    """Every case's history of one benchmark and measure."""

    benchmark: str
    measure: str  # the measure followed, e.g. ``time``
    method: Method  # the changepoint method: ``binseg`` or ``edivisive``
    alpha: float  # significance level of the changepoint tests, after correction
    cases: tuple[CaseHistory, ...]  # in the order each case first appears in the store
    annotations: tuple[Annotation, ...] = field(default=())  # of its runs, and its exclusions, in the order made


def benchmark_history(
    store: Store,
    benchmark: str,
    measure: str = "time",
    params: Mapping[str, Any] | None = None,
    *,
    method: Method = "binseg",
    alpha: float = 0.01,
) -> BenchmarkHistory:
    """A benchmark's stored ok results per case, with changepoints in each case's medians.

    Cases with fewer than :data:`MIN_CHANGEPOINT_RUNS` runs get no changepoints and a ``note``
    saying so. Excluded runs and cases are left out; each accepted run (``calibrax accept``)
    starts a segment of its own, searched apart from the runs before it, in the cases and
    measure it concerns (all of them, or the benchmark, case or measure it names).

    Args:
        store: the store to read.
        benchmark: the benchmark name.
        measure: the measure to follow.
        params: keep only cases whose params include every one of these items.
        method: the changepoint method (see :func:`detect_changepoints`).
        alpha: significance level of the changepoint tests.

    Raises:
        NotFoundError: no stored ok result matches.
        AnalysisError: ``method`` or ``alpha`` is not valid.

    Example:
        found = benchmark_history(store, "matmul", params={"n": 512})
        [(c.index, c.relative_change) for c in found.cases[0].changepoints]  # [(18, 0.1)]

    References:
        Daly et al., "The use of change point detection to identify software performance
        regressions", ICPE 2020 (the method applied per case).
    """
    rows = store.history(benchmark, measure, params)
    if not rows:
        raise NotFoundError(f"No stored ok results of {benchmark!r} ({measure}) match; see calibrax benchmarks list "
                            "and calibrax runs.")
    grouped: dict[str, list[HistoryRun]] = {}
    for row in rows:
        grouped.setdefault(canonical_params(row["params"]), []).append(HistoryRun(**row))
    in_history = {row["run_id"] for row in rows}
    mine = [a for a in store.load_annotations() if a.benchmark in (None, benchmark)
            and (a.kind != "accept" or a.measure in (None, measure))]
    started = {a.run_id: store.get_run(a.run_id).started_at for a in mine if a.kind == "accept"}
    cases = []
    for key, runs in grouped.items():
        concern = [a for a in mine if a.applies_to(benchmark, key, measure)]
        accepted = sorted(started[a.run_id] for a in concern if a.kind == "accept")
        ids = {r.run_id for r in runs}
        shown = tuple(a for a in concern if a.run_id in ids or a.kind == "exclude")
        cases.append(replace(_case_history(tuple(runs), method, alpha, accepted), annotations=shown))
    shown = tuple(a for a in mine if a.run_id in in_history or a.kind == "exclude")
    return BenchmarkHistory(benchmark, measure, method, alpha, tuple(cases), shown)


def segment_starts(started: list[str], accepted: list[str]) -> list[int]:
    """Where each segment of a history starts: 0, then the first run at or after each accepted run.

    Example:
        >>> segment_starts(["t1", "t2", "t3", "t4"], ["t3"])
        [0, 2]
    """
    starts = [0]
    for t in accepted:
        i = next((k for k, s in enumerate(started) if s >= t), len(started))
        if starts[-1] < i < len(started):
            starts.append(i)
    return starts


def _case_history(runs: tuple[HistoryRun, ...], method: Method, alpha: float, accepted: list[str]) -> CaseHistory:
    starts = segment_starts([r.started_at for r in runs], accepted)
    bounds = [*starts, len(runs)]
    found: list[Changepoint] = []
    short = 0
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi - lo < MIN_CHANGEPOINT_RUNS:
            short += 1
            continue
        points = [HistoryPoint(r.run_id, float(r.median), r.git_commit) for r in runs[lo:hi]]
        found += [replace(c, index=c.index + lo) for c in detect_changepoints(points, method=method,
                                                                               alpha=alpha).changepoints]
    note = None
    if short == len(starts):
        note = f"{len(runs)} runs: changepoints need at least {MIN_CHANGEPOINT_RUNS}"
        if len(starts) > 1:
            note = f"{len(starts)} segments after accepted shifts, each under {MIN_CHANGEPOINT_RUNS} runs"
    return CaseHistory(runs[0].params, runs, tuple(found), note)
