"""Stages 2 and 3 of a run, execute and record: every case measured, finished and stored.

For each planned benchmark the executor yields its cases; each is finished here (a cold
compile when asked, summaries) and written to the store in its own transaction the moment it
arrives, so a killed run keeps every case it finished. Once a benchmark's cases are all in,
what they give together (complexity fits over its size sweeps) is stored as its
:class:`~calibrax.core.BenchmarkResult`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from calibrax.analysis import complexity_fits
from calibrax.core import format_seconds
from calibrax.core.models import BenchmarkResult, CaseResult, CaseStatus
from calibrax.runner.cold import with_cold_compile
from calibrax.runner.context import RunContext
from calibrax.runner.execute import summarised
from calibrax.runner.executors import Executor
from calibrax.runner.plan import PlannedBenchmark
from calibrax.runner.progress import Counter, live_bar

__all__ = ["Recorded", "record_all"]

log = logging.getLogger("calibrax")


@dataclass
class Recorded:
    """What the record stage stored: the cases in run order, the validation entries the
    workers made for them (by position in the run) and each benchmark's joint results."""

    cases: list[CaseResult] = field(default_factory=list)
    worker_entries: dict[int, list[dict[str, object]]] = field(default_factory=dict)
    benchmarks: list[BenchmarkResult] = field(default_factory=list)


def record_all(ctx: RunContext, executor: Executor, into: Recorded) -> Recorded:
    """Measure and store every case of every planned benchmark, in plan order.

    ``into`` is filled as cases arrive, so a caller that catches an interruption still knows
    what was stored.
    """
    total = sum(len(bench.cases) for bench in ctx.planned)
    counter = Counter(total)
    with live_bar(total, "cases") as advance:
        for bench in ctx.planned:
            mine: list[CaseResult] = []
            for case in _finished(ctx, bench, executor):
                if case.validation:  # output comparisons made where the case ran: judged with the run
                    into.worker_entries[len(into.cases)] = [dict(e) for e in case.validation]
                    case = replace(case, validation=())
                ctx.begin()
                ctx.store.add_case(ctx.run_id, case)  # with the files it lists (a trace)
                _log_case(case, counter.step(), counter.times())
                advance(case.benchmark)
                into.cases.append(case)
                mine.append(case)
            if ctx.profiling.complexity:
                fits = complexity_fits(mine)
                if fits:
                    result = BenchmarkResult(bench.name, tuple(fits))
                    ctx.store.add_benchmark_result(ctx.run_id, result)
                    into.benchmarks.append(result)
    return into


def _finished(ctx: RunContext, bench: PlannedBenchmark, executor: Executor) -> Iterator[CaseResult]:
    timeout = ctx.cfg.profile.case_timeout
    for _, case in executor.run(bench):
        if ctx.cfg.profile.cold_compile:
            case = with_cold_compile(case, bench.source, platform=ctx.cfg.hardware.platform,
                                     sys_path=[str(ctx.cwd)], timeout=timeout)
        yield summarised(case)


def _log_case(case: CaseResult, counted: str, times: str) -> None:
    params = " ".join(f"{k}={v}" for k, v in case.params.items())
    t = case.measures.get("time")
    if case.status is CaseStatus.OK and t is not None and t.summary is not None:
        s = t.summary
        log.info("%s %-16s %-28s %s [%s, %s] (%d rounds x %s calls); %s", counted, case.benchmark, params,
                 format_seconds(s.median), format_seconds(s.ci_low), format_seconds(s.ci_high), s.n,
                 t.meta.get("calls_per_round"), times)
    else:
        first = (case.error or "").strip().splitlines()
        log.warning("%s %-16s %-28s %s: %s; %s", counted, case.benchmark, params, case.status.value.upper(),
                    first[-1] if first else "", times)
