"""Stored interleaved gates built through the library with real measured timings.

Each side of a gate times a pure-Python loop in this process (the baseline commit does
``n`` iterations, the candidate ``factor * n``), so the trial values are real measurements
and the verdict is the gate's own, without a git checkout or worker processes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from factories import hardware

from calibrax.ci import CaseRef, InterleavedResult, TrialStatistic, policy_from_config, run_interleaved, trial_value
from calibrax.core import (
    STANDARD_MEASURES,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    MeasureResult,
    RunInfo,
    RunStatus,
)
from calibrax.runner.evidence import record_interleaved
from calibrax.statistics import summarize
from calibrax.storage import Store

CONFIG: dict[str, Any] = {"thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.05}}}}
BASE_SHA = "5" * 40


def loop_seconds(n: int, rounds: int = 5) -> list[float]:
    """Seconds per call of a loop of ``n`` iterations, one sample per round."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for i in range(n):
            total += i * i
        out.append(time.perf_counter() - start)
    return out


def _case(n: int, samples: list[float]) -> CaseResult:
    time_m = MeasureResult(STANDARD_MEASURES["time"], tuple(samples), summarize(samples), {"rounds": len(samples)})
    return CaseResult("loop", {"n": n}, CaseStatus.OK, {"time": time_m}, started_at="2026-12-01T00:00:00+00:00")


def plain_run(store: Store, run_id: str, started_at: str, n: int, work: int) -> None:
    """A run measured the usual way: 20 samples of the loop of ``work`` iterations."""
    store.begin_run(RunInfo(run_id, started_at, RunStatus.RUNNING, GitInfo("c" * 40, "main", False), hardware(),
                            CONFIG))
    store.add_case(run_id, _case(n, loop_seconds(work, 20)))
    store.finish_run(run_id, RunStatus.OK, started_at)


def gated_run(store: Store, run_id: str, started_at: str, n: int, factor: float,
              trials: int = 6) -> tuple[str, InterleavedResult]:
    """A candidate run (the loop of ``factor * n`` iterations) checked by an interleaved gate
    against the baseline commit (``n`` iterations); returns the linked baseline run's id."""
    work = int(n * factor)
    plain_run(store, run_id, started_at, n, work)
    refs = [CaseRef(f'loop{{"n": {n}}}', "loop", {"n": n}, (STANDARD_MEASURES["time"],))]

    def measure(arm: str, todo: Any) -> dict[str, dict[str, float]]:
        size = n if arm == "A" else work
        return {ref.key: {"time": trial_value(loop_seconds(size), Direction.LOWER, TrialStatistic.best)} for ref in todo}

    result = run_interleaved(measure, refs, policy_from_config(CONFIG), trials=trials, max_trials=trials)
    gate_start = started_at.replace("00+00:00", "30+00:00")
    linked = record_interleaved(store, run_id, "main", BASE_SHA, refs, result, gate_start,
                                {"trials": trials, "max_trials": trials, "trial_statistic": "best"})
    store.add_verdicts(run_id, linked, result.verdicts)
    return linked, result


def interleaved_store(path: Path, n: int = 20_000) -> tuple[str, str]:
    """A store of an earlier gate, a plain run, then a gated run whose candidate does twice
    the work; returns the last candidate's id and its linked baseline run's id."""
    with Store.open(path) as store:
        gated_run(store, "r1-gate", "2026-12-01T00:01:00+00:00", n, 1.0)
        plain_run(store, "r2-plain", "2026-12-01T00:02:00+00:00", n, n)
        linked, _ = gated_run(store, "r3-gate", "2026-12-01T00:03:00+00:00", n, 2.0)
    return "r3-gate", linked
