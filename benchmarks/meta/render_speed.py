"""How long the reports take to render for a large run: 1,000 cases with 50 samples each.

Builds the record in memory (a realistic mix: ok cases with ``time``, ``compile_time``,
``peak_rss`` and roofline measures, a few failed ones, a verdict per ok case, a baseline record
for the HTML baseline charts), then renders the HTML and LaTeX reports and prints the best and
median of a few renders. The full HTML report also gets the run's stored context: it is read
from a store holding ``--history-runs`` runs of every case (one query for every history), with
alerts and validation checks, and the time to read it is printed on its own line. The goals on a
2-core machine: each HTML report under 3 MB and rendered in under 1 s; reading the store and the
LaTeX report under 2 s each. Each line ends with its goal and "ok" or "OVER GOAL"; building the
store is not timed. Each line shows wall and CPU seconds (the CPU seconds of this process are close
to a quiet machine's wall time when the machine is busy).
Run: ``.venv/bin/python benchmarks/meta/render_speed.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from calibrax.core import (
    STANDARD_MEASURES,
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
    ValidationEntry,
    Verdict,
    VerdictKind,
)
from calibrax.exporters import ReportData, collect_report_data, get_exporter
from calibrax.statistics import summarize
from calibrax.storage import Store

GOAL_SECONDS = 2.0  # reading the store, the LaTeX report
HTML_GOAL_SECONDS = 1.0  # each HTML report
HTML_GOAL_BYTES = 3_000_000


def _case(i: int, samples: int, rng: random.Random, scale: float) -> CaseResult:
    params = {"n": 2 ** (i % 12 + 4), "dtype": ("float32", "bfloat16")[i % 2], "variant": i}
    if i % 97 == 13:
        return CaseResult(f"bench_{i % 40}", params, CaseStatus.ERROR,
                          error="Traceback (most recent call last):\n  ...\nValueError: broken on purpose")
    center = 1e-5 * (1 + i % 50) * scale
    times = tuple(center * (1 + abs(rng.gauss(0, 0.03))) for _ in range(samples))
    compile_s = (0.01 * (1 + i % 7),)
    rss = (float(2**20 * (50 + i % 13)),)
    flops = 2.0 * params["n"] ** 3
    achieved = tuple(flops / t for t in times)
    intensity = (flops / (12.0 * params["n"] ** 2),)
    return CaseResult(
        f"bench_{i % 40}",
        params,
        CaseStatus.OK,
        {
            "time": MeasureResult(STANDARD_MEASURES["time"], times, summarize(times),
                                  {"calls_per_round": 10, "rounds": samples}),
            "compile_time": MeasureResult(STANDARD_MEASURES["compile_time"], compile_s, summarize(compile_s)),
            "peak_rss": MeasureResult(STANDARD_MEASURES["peak_rss"], rss, summarize(rss)),
            "achieved_flops": MeasureResult(STANDARD_MEASURES["achieved_flops"], achieved, summarize(achieved)),
            "arithmetic_intensity": MeasureResult(STANDARD_MEASURES["arithmetic_intensity"], intensity,
                                                  summarize(intensity)),
        },
        started_at="2026-11-26T00:00:00+00:00",
        duration=0.5,
    )


def build(cases: int, samples: int) -> tuple[RunRecord, RunRecord]:
    """The candidate run (with verdicts) and its baseline, ``cases`` cases each."""
    rng = random.Random(0)
    hardware = HardwareInfo("cpu", "cpu", 1, "Test CPU", 2, 1 << 34, "Linux", "3.11")
    base_cases = tuple(_case(i, samples, rng, 1.0) for i in range(cases))
    new_cases = tuple(_case(i, samples, rng, 1.05) for i in range(cases))
    verdicts = tuple(
        Verdict(c.benchmark, c.params, "time", (VerdictKind.PASS, VerdictKind.REGRESSED)[i % 9 == 0],
                1.05, b.measures["time"].summary.median, c.measures["time"].summary.median, 0.05, "")  # type: ignore[union-attr]
        for i, (b, c) in enumerate(zip(base_cases, new_cases, strict=True))
        if c.status is CaseStatus.OK
    )
    run = RunInfo("20261126-000000-cand", "2026-11-26T00:00:00+00:00", RunStatus.FAILED,
                  GitInfo("0" * 40, "main", False), hardware,
                  {"suite": "big", "hardware": {"name": "cpu", "peak_flops": 1e12, "bandwidth": 5e10}})
    baseline = RunRecord(RunInfo("20261125-000000-base", "", RunStatus.OK, hardware=hardware), base_cases)
    record = RunRecord(run, new_cases, verdicts, {"name": "main", "run_id": baseline.run.id})
    return record, baseline


def stored_context(record: RunRecord, runs: int, folder: Path) -> Path:
    """A store with ``runs`` runs of every case of ``record`` (the last is ``record``), where
    every fifth case shifts by 20% halfway, plus alerts and validation checks of the run."""
    path = folder / "history.db"
    rng = random.Random(1)
    with Store.open(path) as store:
        for k in range(runs):
            last = k == runs - 1
            run_id = record.run.id if last else f"20261125-{k:06d}-past"
            info = dataclasses.replace(record.run, id=run_id, started_at=f"2026-11-25T00:{k // 60:02d}:{k % 60:02d}+00:00",
                                       status=RunStatus.RUNNING)
            store.begin_run(info)
            for i, case in enumerate(record.cases):
                if not last and case.status is CaseStatus.OK:
                    shift = 1.2 if i % 5 == 0 and k >= runs // 2 else 1.0
                    t = tuple(v * shift * (1 + rng.gauss(0, 0.01)) for v in case.measures["time"].samples[:5])
                    case = dataclasses.replace(case, measures={"time": MeasureResult(STANDARD_MEASURES["time"], t,
                                                                                     summarize(t))})
                store.add_case(run_id, case)
            store.finish_run(run_id, RunStatus.OK, info.started_at)
        alerts = [Alert(f"a{i}", "slow_down", (Severity.WARNING, Severity.CRITICAL)[i % 2],
                        f"bench_{i} got slower than its rolling median.", "2026-11-26T00:00:00+00:00",
                        {"benchmark": f"bench_{i}", "measure": "time", "unit": "s"}, 2e-4, 1e-4, record.run.id)
                  for i in range(20)]
        store.add_alerts(alerts)
        store.add_validation(record.run.id, [ValidationEntry("accuracy", f"bench_{i}/max_error", i % 7 != 0,
                                                             "max error against float64", {"max_error": 1e-6 * i})
                                             for i in range(40)])
    return path


def timed(render: Callable[[], str], repeats: int) -> tuple[list[float], list[float], int]:
    """Wall seconds and CPU seconds (this process) of each of ``repeats`` renders, and the size
    of the output in bytes. On a busy machine the CPU seconds are close to a quiet machine's wall time."""
    seconds, cpu, size = [], [], 0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        size = len(render().encode("utf-8"))
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return seconds, cpu, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--history-runs", type=int, default=30, help="runs of history in the store")
    args = parser.parse_args()
    record, baseline = build(args.cases, args.samples)
    folder = Path(tempfile.mkdtemp(prefix="calibrax-render-"))
    path = stored_context(record, args.history_runs, folder)
    print(f"{args.cases} cases x {args.samples} samples, {args.history_runs} runs of history, "
          f"{args.repeats} renders each (goals: html under {HTML_GOAL_SECONDS:g} s and "
          f"{HTML_GOAL_BYTES / 1e6:g} MB, the rest under {GOAL_SECONDS:g} s)")
    data: list[ReportData] = []

    def collect() -> str:
        with Store.open(path) as store:
            data[:] = [collect_report_data(store, record, history_runs=args.history_runs)]
        return ""

    renders = {
        "html (with baseline charts)": lambda: get_exporter("html").render(record, {"baseline": baseline}),
        "read history from store": collect,
        "html (history, all charts)": lambda: get_exporter("html").render(
            record, {"baseline": baseline, "report_data": data[0]}),
        "latex (standalone)": lambda: get_exporter("latex").render(record, {}),
    }
    missed = []
    for name, render in renders.items():
        seconds, cpu, size = timed(render, args.repeats)
        best, median = min(seconds), statistics.median(seconds)
        html = name.startswith("html")
        goal_s, goal_bytes = (HTML_GOAL_SECONDS, HTML_GOAL_BYTES) if html else (GOAL_SECONDS, None)
        over = median >= goal_s or (goal_bytes is not None and size >= goal_bytes)
        goal = f"< {goal_s:g} s" + (f", < {goal_bytes / 1e6:g} MB" if goal_bytes else "")
        print(f"{name:28s} best {best:6.3f} s  median {median:6.3f} s  cpu {statistics.median(cpu):6.3f} s  "
              f"{size / 1e6:6.2f} MB  (goal {goal}) {'OVER GOAL' if over else 'ok'}")
        if over:
            missed.append(name)
    if missed:
        raise SystemExit(f"Over goal: {', '.join(missed)}")


if __name__ == "__main__":
    main()
