"""Run records for the report tests: a realistic run with hostile names, and a run with every
chart's measures plus the stored context (history with a step, alerts, validation)."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

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
from calibrax.exporters import ReportData

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "benchmarks/conv.py", line 12, in conv\n'
    "    return x / 0\n"
    "ZeroDivisionError: division by zero"
)

def summary_of(samples: list[float]) -> Summary:
    """Summary statistics the way the analyzer reports them (enough for rendering)."""
    ordered = sorted(samples)
    median = statistics.median(ordered)
    q1, _, q3 = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else (median, 0, median)
    mad = statistics.median(abs(x - median) for x in ordered) * 1.4826
    k = max(0, len(ordered) // 2 - int(math.sqrt(len(ordered))))
    return Summary(
        n=len(ordered),
        median=median,
        mean=statistics.fmean(ordered),
        min=ordered[0],
        max=ordered[-1],
        std=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        iqr=q3 - q1,
        mad=mad,
        ci_low=ordered[k],
        ci_high=ordered[-1 - k],
    )


def measure_result(name: str, samples: list[float], **meta: Any) -> MeasureResult:
    return MeasureResult(measure_for(name), tuple(samples), summary_of(samples), meta)


def ok_case(benchmark: str, params: Mapping[str, Any], seconds: float, seed: int) -> CaseResult:
    rng = random.Random(seed)
    times = [seconds * (1 + abs(rng.gauss(0, 0.04))) for _ in range(40)]
    return CaseResult(
        benchmark=benchmark,
        params=params,
        status=CaseStatus.OK,
        measures={
            "time": measure_result("time", times, mode="calls", calls_per_round=64, rounds=40),
            "compile_time": measure_result("compile_time", [seconds * 300]),
        },
        started_at="2025-03-01T12:00:01Z",
        duration=2.5,
    )


def make_record() -> RunRecord:
    """A realistic run: four ok cases (one with a hostile name), an error and a crash."""
    matmul_small = {"n": 256, "dtype": "float32"}
    matmul_large = {"n": 1024, "dtype": "float32"}
    mlp = {"batch": 32, "activation": "relu|gelu"}
    cases = (
        ok_case("matmul", matmul_small, 0.00121, 1),
        ok_case("matmul", matmul_large, 0.0153, 2),
        ok_case("mlp_forward", mlp, 0.000042, 3),
        ok_case(SCRIPT, {"label": SCRIPT}, 2.1e-7, 4),
        CaseResult("conv", {"k": 3}, CaseStatus.ERROR, error=TRACEBACK, duration=0.4),
        CaseResult("attention", {"seq": 4096}, CaseStatus.CRASHED, error="worker killed by signal 9"),
    )
    verdicts = (
        Verdict("matmul", matmul_small, "time", VerdictKind.PASS, 1.01, 0.0012, 0.00121, 0.05, "within margin"),
        Verdict("matmul", matmul_large, "time", VerdictKind.REGRESSED, 1.31, 0.0117, 0.0153, 0.05, "31% slower"),
        Verdict("mlp_forward", mlp, "time", VerdictKind.IMPROVED, 0.8, 5.25e-5, 4.2e-5, 0.05, "20% faster"),
        Verdict("matmul", matmul_large, "compile_time", VerdictKind.INCONCLUSIVE, 1.02, 4.5, 4.59, 0.1, "noisy"),
    )
    run = RunInfo(
        id="20250301-120000-ab12",
        started_at="2025-03-01T12:00:00Z",
        finished_at="2025-03-01T12:03:10Z",
        status=RunStatus.FAILED,
        git=GitInfo(commit="0123456789abcdef0123456789abcdef01234567", branch="main", dirty=True),
        hardware=HardwareInfo(
            backend="cpu",
            device_kind="cpu",
            device_count=1,
            cpu_model="AMD EPYC 7763 64-Core Processor",
            cpu_count=16,
            memory_bytes=64 * 2**30,
            platform="Linux-6.8-x86_64",
            python="3.11.9",
            versions={"jax": "0.6.0", "jaxlib": "0.6.0"},
        ),
        config={"suite": "default", "profile": {"rounds": 40, "note": "</script><b>x</b>"}},
        overrides=("suite=default",),
    )
    baseline = {"name": "main", "run_id": "20250228-090000-cd34"}
    return RunRecord(run=run, cases=cases, verdicts=verdicts, baseline=baseline)


SIZES = (64, 128, 256, 512)


def rich_case(benchmark: str, n: int, seed: int, label: str = "plain") -> CaseResult:
    """An ok case whose time grows as n^2, with roofline measures and a peak RSS."""
    case = ok_case(benchmark, {"n": n, "label": label}, 1e-9 * n**2, seed)
    flops = 2.0 * n**3
    times = case.measures["time"].samples
    return replace(case, measures={
        **case.measures,
        "achieved_flops": measure_result("achieved_flops", [flops / t for t in times]),
        "arithmetic_intensity": measure_result("arithmetic_intensity", [flops / (12.0 * n * n)]),
        "peak_rss": measure_result("peak_rss", [float(2**20 * (100 + n))]),
    })


def rich_record(run_id: str = "rich-run") -> RunRecord:
    """A run with a size sweep (a hostile benchmark name included) and every chart's measures."""
    base = make_record()
    cases = tuple(rich_case(name, n, i) for i, (name, n) in
                  enumerate((name, n) for name in ("matmul", SCRIPT) for n in SIZES))
    config = {**base.run.config, "hardware": {"name": "test_chip", "peak_flops": 1e12, "bandwidth": 1e10}}
    return RunRecord(replace(base.run, id=run_id, config=config), (*cases, *base.cases[4:]))


def step_history(key_value: float, n: int = 16, at: int = 8) -> tuple[HistoryPoint, ...]:
    rng = np.random.default_rng(3)
    return tuple(HistoryPoint(f"{SCRIPT}-{i}", key_value * (1.3 if i >= at else 1.0) * (1 + 0.005 * rng.standard_normal()),
                              f"c{i:039d}") for i in range(n))


def report_data(record: RunRecord) -> ReportData:
    history = {}
    for i, case in enumerate(record.cases):
        if case.measures:
            median = case.measures["time"].summary.median  # type: ignore[union-attr]
            history[case.key] = step_history(median) if i == 0 else step_history(median, at=99)
    alerts = (Alert("a1", SCRIPT, Severity.CRITICAL, f"{SCRIPT} got slower", "2026-11-26T00:00:00+00:00",
                    {"benchmark": SCRIPT, "measure": "time", "unit": "s"}, 2e-3, 1e-3, record.run.id),
              Alert("a2", "drift", Severity.WARNING, "matmul drifts", "2026-11-25T00:00:00+00:00",
                    {"benchmark": "matmul"}, None, None, "older-run"))
    validation = (ValidationEntry("accuracy", f"{SCRIPT}/max_error", False, f"error {SCRIPT} too large",
                                  {"max_error": 0.25, "note": SCRIPT}),
                  ValidationEntry("convergence", "mlp/loss", True, "converged at step 120", {"step": 120}))
    return ReportData(history, 30, "time", alerts, validation, True)


def chart_data(page: str) -> dict[str, Any]:
    """The per-case charts' data in an HTML report: its one ``<script type="application/json">``."""
    start = page.index('<script type="application/json" id="chart-data">')
    block = page[page.index(">", start) + 1: page.index("</script>", start)]
    data: dict[str, Any] = json.loads(block)
    return data
