"""A realistic run for the conformance suites: hostile names, every case status, verdicts, a
baseline, and the stored context (history with a step, alerts, validation).

Everything is computed from fixed seeds, so the same record comes back on every call.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from calibrax.analysis import HistoryPoint
from calibrax.core import (
    Alert,
    CaseResult,
    CaseStatus,
    GitInfo,
    HardwareInfo,
    MeasureResult,
    RunInfo,
    RunRecord,
    RunStatus,
    Severity,
    Summary,
    ValidationEntry,
    Verdict,
    VerdictKind,
    measure_for,
)
from calibrax.exporters import ReportInput

__all__ = ["HOSTILE", "hostile_record", "hostile_report"]

HOSTILE = "<script>alert(1)</script> | `x` *y* _z_ & \\ $ % # { } ~ ^ \"q\" 'a'"
"""A name that breaks every markup a report can be written in unless it is escaped."""

_TRACEBACK = ("Traceback (most recent call last):\n  File \"bench.py\", line 12, in conv\n    return x / 0\n"
              "ZeroDivisionError: division by zero \x1b[31m")


def _summary(samples: list[float]) -> Summary:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    q1, _, q3 = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else (median, 0.0, median)
    k = max(0, len(ordered) // 2 - int(math.sqrt(len(ordered))))
    return Summary(n=len(ordered), median=median, mean=statistics.fmean(ordered), min=ordered[0], max=ordered[-1],
                   std=statistics.stdev(ordered) if len(ordered) > 1 else 0.0, iqr=q3 - q1,
                   mad=statistics.median(abs(x - median) for x in ordered) * 1.4826, ci_low=ordered[k],
                   ci_high=ordered[-1 - k])


def _measure(name: str, samples: list[float], **meta: Any) -> MeasureResult:
    return MeasureResult(measure_for(name), tuple(samples), _summary(samples), meta)


def _ok_case(benchmark: str, params: Mapping[str, Any], seconds: float, seed: int) -> CaseResult:
    rng = random.Random(seed)
    times = [seconds * (1 + abs(rng.gauss(0, 0.04))) for _ in range(24)]
    flops = 2.0e6 * seconds * 1e3
    return CaseResult(benchmark=benchmark, params=params, status=CaseStatus.OK, measures={
        "time": _measure("time", times, mode="calls", calls_per_round=16, rounds=24),
        "compile_time": _measure("compile_time", [seconds * 300]),
        "achieved_flops": _measure("achieved_flops", [flops / t for t in times]),
        "arithmetic_intensity": _measure("arithmetic_intensity", [4.0 + seed]),
        "peak_rss": _measure("peak_rss", [float(2**20 * (100 + seed))]),
    }, started_at="2025-03-01T12:00:01Z", duration=1.5)


def hostile_record(run_id: str = "20250301-120000-ab12", scale: float = 1.0) -> RunRecord:
    """A run with a size sweep (one benchmark named :data:`HOSTILE`), an error and a crash, and
    verdicts of every common kind.

    Example:
        >>> record = hostile_record()
        >>> sorted({c.status.value for c in record.cases})
        ['crashed', 'error', 'ok']
    """
    cases = [_ok_case(name, {"n": n, "label": HOSTILE if name != "matmul" else "plain"}, scale * 1e-9 * n**2, i)
             for i, (name, n) in enumerate((name, n) for name in ("matmul", HOSTILE) for n in (64, 128, 256, 512))]
    cases += [CaseResult("conv", {"k": 3}, CaseStatus.ERROR, error=_TRACEBACK, duration=0.4),
              CaseResult("attention", {"seq": 4096}, CaseStatus.CRASHED, error=f"worker killed by signal 9 {HOSTILE}")]
    first, second = cases[0], cases[5]
    verdicts = (
        Verdict(first.benchmark, first.params, "time", VerdictKind.REGRESSED, 1.31, 1e-5, 1.3e-5, 0.05, "31% slower"),
        Verdict(second.benchmark, second.params, "time", VerdictKind.IMPROVED, 0.8, 5e-5, 4e-5, 0.05, HOSTILE),
        Verdict(first.benchmark, first.params, "compile_time", VerdictKind.INCONCLUSIVE, 1.02, 4.5, 4.6, 0.1, "noisy"),
    )
    run = RunInfo(
        id=run_id, started_at="2025-03-01T12:00:00Z", finished_at="2025-03-01T12:03:10Z", status=RunStatus.FAILED,
        git=GitInfo(commit="0123456789abcdef0123456789abcdef01234567", branch=f"main-{HOSTILE}", dirty=True),
        hardware=HardwareInfo(backend="cpu", device_kind="cpu", device_count=1, cpu_model=f"CPU {HOSTILE}",
                              cpu_count=16, memory_bytes=64 * 2**30, platform="Linux-6.8-x86_64", python="3.11.9",
                              versions={"jax": "0.6.0"}),
        config={"suite": "default", "note": HOSTILE, "hardware": {"peak_flops": 1e12, "bandwidth": 1e10}},
        overrides=("suite=default", f"note={HOSTILE}"), sweep_id="sweep-1",
    )
    return RunRecord(run=run, cases=tuple(cases), verdicts=verdicts, baseline={"name": HOSTILE, "run_id": "base-run"})


def hostile_report() -> ReportInput:
    """:func:`hostile_record` with every stored part: its baseline, a history with a step in
    its first case, alerts and validation checks, all with hostile text.

    Example:
        >>> report = hostile_report()
        >>> report.baseline.run.id, len(report.alerts), report.validation_gate
        ('base-run', 2, True)
    """
    record = hostile_record()
    baseline = replace(hostile_record("base-run", 0.9), verdicts=(), baseline={})
    history = {}
    for i, case in enumerate(record.cases):
        time = case.measures.get("time")
        if time is not None and time.summary is not None:
            rng = random.Random(i)
            step_at = 8 if i == 0 else 99
            history[case.key] = tuple(
                HistoryPoint(f"{HOSTILE}-{j}", time.summary.median * (1.3 if j >= step_at else 1.0)
                             * (1 + 0.005 * rng.gauss(0, 1)), f"c{j:039d}") for j in range(16))
    alerts = (Alert("a1", HOSTILE, Severity.CRITICAL, f"{HOSTILE} got slower", "2026-11-26T00:00:00+00:00",
                    {"benchmark": HOSTILE, "measure": "time", "unit": "s"}, 2e-3, 1e-3, record.run.id),
              Alert("a2", "drift", Severity.WARNING, "matmul drifts", "2026-11-25T00:00:00+00:00",
                    {"benchmark": "matmul"}, None, None, "older-run"))
    validation = (ValidationEntry("accuracy", f"{HOSTILE}/max_error", False, f"error {HOSTILE} too large",
                                  {"max_error": 0.25, "note": HOSTILE}),
                  ValidationEntry("convergence", "mlp/loss", True, "converged at step 120", {"step": 120}))
    return ReportInput(record, baseline, history, 16, "time", alerts, validation, True)
