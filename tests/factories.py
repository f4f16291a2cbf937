"""Builders of realistic records for tests that need no measuring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from calibrax.core import (
    STANDARD_MEASURES,
    CaseResult,
    CaseStatus,
    GitInfo,
    HardwareInfo,
    MeasureResult,
    RunInfo,
    RunRecord,
    RunStatus,
)
from calibrax.statistics import summarize


def hardware(**kw: Any) -> HardwareInfo:
    base: dict[str, Any] = dict(backend="cpu", device_kind="cpu", device_count=1, cpu_model="Test CPU",
                                cpu_count=2, memory_bytes=1 << 34, platform="Linux", python="3.11.7")
    base.update(kw)
    return HardwareInfo(**base)


def time_case(benchmark: str, params: dict[str, Any], center: float, *, n: int = 20, seed: int = 0,
              status: CaseStatus = CaseStatus.OK) -> CaseResult:
    """An ok case whose `time` samples scatter 1% around ``center`` seconds."""
    rng = np.random.default_rng(seed)
    samples = tuple(float(v) for v in center * (1 + 0.01 * rng.standard_normal(n)))
    time_m = MeasureResult(STANDARD_MEASURES["time"], samples, summarize(samples), {"calls_per_round": 10, "rounds": n})
    compile_m = MeasureResult(STANDARD_MEASURES["compile_time"], (0.01,), summarize((0.01,)))
    return CaseResult(benchmark, params, status, {"time": time_m, "compile_time": compile_m},
                      started_at="2026-11-26T00:00:00+00:00", duration=0.5)


def run_info(run_id: str, *, hw: HardwareInfo | None = None, config: dict[str, Any] | None = None,
             started_at: str = "2026-11-26T00:00:00+00:00", sweep_id: str | None = None) -> RunInfo:
    return RunInfo(run_id, started_at, RunStatus.RUNNING, GitInfo("abc123", "main", False), hw or hardware(),
                   config or {"thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.01}}}},
                   sweep_id=sweep_id)


def record(run_id: str, cases: Sequence[CaseResult], **kw: Any) -> RunRecord:
    return RunRecord(run_info(run_id, **kw), tuple(cases))


def add_run(store: Any, run_id: str, center: float, second: str, config: dict[str, Any] | None = None,
            sweep_id: str | None = None) -> None:
    """Store a finished run with a matmul case around ``center`` seconds and a softmax case."""
    store.begin_run(run_info(run_id, config=config, started_at=f"2026-11-26T00:00:{second}+00:00", sweep_id=sweep_id))
    store.add_case(run_id, time_case("matmul", {"n": 128}, center))
    store.add_case(run_id, time_case("softmax", {"cols": 8}, 2e-4, seed=3))
    store.finish_run(run_id, RunStatus.OK, f"2026-11-26T00:01:{second}+00:00")
