"""How long the reports take to render for a large run: 1,000 cases with 50 samples each.

Builds the record in memory (a realistic mix: ok cases with ``time`` and ``compile_time``, a
few failed ones, a verdict per ok case, a baseline record for the HTML baseline charts), then
renders the HTML and LaTeX reports and prints the best and median of a few renders. The goal is
under 2 s each on a 2-core machine. Run: ``.venv/bin/python benchmarks/meta/render_speed.py``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

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
    Verdict,
    VerdictKind,
)
from calibrax.exporters import get_exporter
from calibrax.statistics import summarize

GOAL_SECONDS = 2.0


def _case(i: int, samples: int, rng: random.Random, scale: float) -> CaseResult:
    params = {"n": 2 ** (i % 12 + 4), "dtype": ("float32", "bfloat16")[i % 2], "variant": i}
    if i % 97 == 13:
        return CaseResult(f"bench_{i % 40}", params, CaseStatus.ERROR,
                          error="Traceback (most recent call last):\n  ...\nValueError: broken on purpose")
    center = 1e-5 * (1 + i % 50) * scale
    times = tuple(center * (1 + abs(rng.gauss(0, 0.03))) for _ in range(samples))
    compile_s = (0.01 * (1 + i % 7),)
    return CaseResult(
        f"bench_{i % 40}",
        params,
        CaseStatus.OK,
        {
            "time": MeasureResult(STANDARD_MEASURES["time"], times, summarize(times),
                                  {"calls_per_round": 10, "rounds": samples}),
            "compile_time": MeasureResult(STANDARD_MEASURES["compile_time"], compile_s, summarize(compile_s)),
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
                  GitInfo("0" * 40, "main", False), hardware, {"suite": "big"})
    baseline = RunRecord(RunInfo("20261125-000000-base", "", RunStatus.OK, hardware=hardware), base_cases)
    record = RunRecord(run, new_cases, verdicts, {"name": "main", "run_id": baseline.run.id})
    return record, baseline


def timed(render: Callable[[], str], repeats: int) -> tuple[list[float], int]:
    """Seconds of each of ``repeats`` renders, and the size of the output in bytes."""
    seconds, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(render().encode("utf-8"))
        seconds.append(time.perf_counter() - start)
    return seconds, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    record, baseline = build(args.cases, args.samples)
    print(f"{args.cases} cases x {args.samples} samples, {args.repeats} renders each (goal: under {GOAL_SECONDS:g} s)")
    renders = {
        "html (with baseline charts)": lambda: get_exporter("html").render(record, {"baseline": baseline}),
        "latex (standalone)": lambda: get_exporter("latex").render(record, {}),
    }
    slow = []
    for name, render in renders.items():
        seconds, size = timed(render, args.repeats)
        best, median = min(seconds), statistics.median(seconds)
        verdict = "ok" if median < GOAL_SECONDS else "OVER GOAL"
        print(f"{name:28s} best {best:6.3f} s  median {median:6.3f} s  {size / 1e6:6.2f} MB  {verdict}")
        if median >= GOAL_SECONDS:
            slow.append(name)
    if slow:
        raise SystemExit(f"Over the {GOAL_SECONDS:g} s goal: {', '.join(slow)}")


if __name__ == "__main__":
    main()
