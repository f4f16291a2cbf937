"""Measure trials of cases in a given folder (a git worktree or the working tree itself).

Supplies the ``measure`` callable of :func:`calibrax.ci.interleaved.run_interleaved` for the
``ci=interleaved`` gate and for ``calibrax bisect``: each trial runs a benchmark's cases in a
fresh worker process whose ``sys.path`` starts with that side's folder.

Trials are forked from a fork server per side (:mod:`calibrax.runner.forkserver`) that has
already imported JAX and the benchmarks' sources with that side's folder first on ``sys.path``,
so a trial pays no interpreter start or import, yet still starts its own JAX backend, compiles
and lays out its memory afresh. Where a server cannot serve, trials start plain workers.

Trial lengths follow the measured noise and the trial's own cost: the first trial of a
benchmark runs the profile's protocol; from its round samples (``time``),
:func:`calibrax.ci.rounds_for_precision` picks the rounds that give a trial median a relative
standard error of ``TRIAL_PRECISION`` (0.5%), and :func:`calibrax.ci.trial_rounds` raises them
until the timed rounds last ``TRIAL_MIN_TIME`` (1 s) and as long as the rest of that trial
(start, compile, warm-up), within ``TRIAL_ROUNDS`` (5 to 30); every later trial of that
benchmark, on both sides, runs exactly that many rounds. Each trial is reduced to one value
per measure by ``ci.trial_statistic`` (:func:`calibrax.ci.trial_value`: its best round by
default).
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from calibrax.analysis import GatePolicy
from calibrax.ci import (
    TRIAL_PRECISION,
    TRIAL_ROUNDS,
    Arm,
    CaseRef,
    CheckResult,
    InterleavedResult,
    TrialStatistic,
    rounds_for_precision,
    run_interleaved,
    trial_rounds,
    trial_value,
)
from calibrax.core.benchmark import BENCHMARKS
from calibrax.core.models import CaseStatus, measure_for
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.forkserver import ForkServer, ForkServerUnavailable
from calibrax.runner.isolation import WorkerJob, run_isolated
from calibrax.runner.progress import format_duration
from calibrax.runner.worktree import checkout, resolve_commit

__all__ = ["Side", "case_refs", "compare_folders", "interleaved_gate", "trial_progress", "verdict_line"]

log = logging.getLogger("calibrax")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a folder and the benchmarks declared there."""

    folder: Path
    catalog: Mapping[str, BenchmarkEntry]

    @classmethod
    def at(cls, folder: Path) -> Side:
        return cls(folder, discover_benchmarks(folder))


@dataclass(frozen=True)
class TrialSettings:
    """How each trial measures: the protocol fields, platform and timeouts, and what each
    trial's rounds are reduced to."""

    protocol: Mapping[str, Any]
    platform: str | None
    case_timeout: float
    start_timeout: float
    statistic: TrialStatistic = TrialStatistic.best


def case_refs(planned: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], policy: GatePolicy) -> list[CaseRef]:
    """The cases of each (benchmark, grid points) and the statistical measures gated on them."""
    from calibrax.core.models import canonical_params

    out = []
    for bench, points in planned:
        measures = tuple(measure_for(m) for m in policy.gated(bench) if policy.rule(bench, m).rule == "statistical")
        if measures:
            out += [CaseRef(f"{bench}{canonical_params(p)}", bench, dict(p), measures) for p in points]
    return out


def _trial(side: Side, cases: Sequence[CaseRef], settings: TrialSettings, server: ForkServer | None,
           rounds: dict[str, int]) -> dict[str, dict[str, float]]:
    """One trial: each benchmark's cases in a fresh worker; per case, each measure's value.
    A benchmark's first trial sets its ``rounds`` from its noise; later ones run that many."""
    by_bench: dict[str, list[CaseRef]] = defaultdict(list)
    for c in cases:
        by_bench[c.benchmark].append(c)
    out: dict[str, dict[str, float]] = {}
    for bench, refs in by_bench.items():
        entry = side.catalog.get(bench)
        if entry is None and bench not in BENCHMARKS:
            continue  # not declared on this side: its verdicts read "missing"
        protocol = dict(settings.protocol)
        if "allow_recompile" in protocol and entry is not None:  # the benchmark's own YAML on this side
            protocol["allow_recompile"] = entry.allow_recompile
        if bench in rounds:
            protocol.update(min_rounds=rounds[bench], max_rounds=rounds[bench], min_time=0.0)
        job = WorkerJob(bench, entry.source if entry else None, [(i, r.params) for i, r in enumerate(refs)],
                        protocol, settings.platform, [str(side.folder)], settings.case_timeout,
                        settings.start_timeout, server=server)
        chosen, timed, per_round, started = [], 0.0, 0.0, time.monotonic()
        for index, case in run_isolated(job):
            if case.status is CaseStatus.OK:
                if (t := case.measures.get("time")) and t.samples:
                    calls = int(t.meta.get("calls_per_round", 1)) or 1
                    chosen.append(rounds_for_precision(t.samples, TRIAL_PRECISION, *TRIAL_ROUNDS))
                    timed += sum(t.samples) * calls
                    per_round += statistics.median(t.samples) * calls
                ref = refs[index]
                out[ref.key] = {m.name: trial_value(case.measures[m.name].samples, m.direction, settings.statistic)
                                for m in ref.measures if case.measures.get(m.name) and case.measures[m.name].samples}
        if chosen and bench not in rounds:
            fixed = max(0.0, time.monotonic() - started - timed)
            rounds[bench] = trial_rounds(max(chosen), fixed, per_round)
    return out


def _server(side: Side, cases: Sequence[CaseRef], settings: TrialSettings) -> ForkServer:
    """A fork server for ``side`` that imports its benchmarks' sources (:func:`_ready` waits)."""
    sources = sorted({e.source for c in cases if (e := side.catalog.get(c.benchmark)) is not None and e.source})
    return ForkServer([str(side.folder)], sources, settings.start_timeout, wait=False)


def _ready(server: ForkServer, side: Side) -> ForkServer | None:
    try:
        server.wait_ready()
    except ForkServerUnavailable as exc:
        log.info("Trials of %s start plain workers: %s", side.folder, exc)
        return None
    return server


def trial_progress(number: int, trials: int, max_trials: int, elapsed: float) -> str:
    """The progress line of one finished trial: its number of the planned total, what more
    may come while undecided, and the time so far.

    Example:
        >>> trial_progress(7, 10, 50, 65.0)
        'trial 7/20 (+ up to 80 more while undecided), 1 min 05 s elapsed'
        >>> trial_progress(23, 10, 50, 200.0)
        'trial 23 of at most 100 (extended while undecided), 3 min 20 s elapsed'
    """
    planned, most = 2 * trials, 2 * max_trials
    if number <= planned:
        more = f" (+ up to {most - planned} more while undecided)" if most > planned else ""
        return f"trial {number}/{planned}{more}, {format_duration(elapsed)} elapsed"
    return f"trial {number} of at most {most} (extended while undecided), {format_duration(elapsed)} elapsed"


def compare_folders(baseline: Side, candidate: Side, cases: Sequence[CaseRef], policy: GatePolicy,
                    settings: TrialSettings, trials: int, max_trials: int,
                    on_trial: Callable[[str], None] | None = None) -> InterleavedResult:
    """ABBA trials of ``cases`` in the two folders, judged by ``policy``; ``on_trial`` hears a
    progress line after each trial (default: the ``calibrax`` log)."""
    sides: dict[Arm, Side] = {"A": baseline, "B": candidate}
    start = time.monotonic()
    rounds: dict[str, int] = {}

    def say(line: str) -> None:
        if on_trial is not None:
            on_trial(line)
        else:
            log.info("%s", line)

    def progress(arm: Arm, number: int) -> None:
        side = "baseline" if arm == "A" else "candidate"
        say(f"interleaved {trial_progress(number, trials, max_trials, time.monotonic() - start)} ({side})")

    with contextlib.ExitStack() as stack:
        started = {arm: stack.enter_context(_server(side, cases, settings)) for arm, side in sides.items()}
        servers = {arm: _ready(server, sides[arm]) for arm, server in started.items()}  # they import side by side

        def measure(arm: Arm, todo: Sequence[CaseRef]) -> Mapping[str, Mapping[str, float]]:
            return _trial(sides[arm], todo, settings, servers[arm], rounds)

        result = run_interleaved(measure, cases, policy, trials=trials, max_trials=max_trials, on_trial=progress,
                                 statistic=settings.statistic)
    verdicts = tuple(replace(v, details={**v.details, "rounds_per_trial": rounds[v.benchmark]})
                     if v.benchmark in rounds else v for v in result.verdicts)
    result = replace(result, verdicts=verdicts, rounds=dict(rounds))
    say(verdict_line(result, time.monotonic() - start))
    return result


def verdict_line(result: InterleavedResult, seconds: float) -> str:
    """The closing line: time to the verdicts, the trials per side they took, the rounds of
    each trial and the method.

    Example:
        >>> verdict_line(InterleavedResult((), stopped_at={"a": 6, "b": 10}, rounds={"m": 20}), 41.5)
        'interleaved verdicts in 41.5 s (6 to 10 trials per side, 20 rounds each; group-sequential sign test and trimmed t (repeated confidence intervals, Jennison & Turnbull 2000))'
    """
    counts = sorted(set(result.stopped_at.values()))
    span = f"{counts[0]} to {counts[-1]}" if len(counts) > 1 else (str(counts[0]) if counts else "no")
    lengths = sorted(set(result.rounds.values()))
    each = (f", {lengths[0]} to {lengths[-1]} rounds each" if len(lengths) > 1
            else f", {lengths[0]} rounds each" if lengths else "")
    return f"interleaved verdicts in {seconds:.1f} s ({span} trials per side{each}; {result.method})"


def interleaved_gate(ref: str, trials: int, max_trials: int, cwd: Path, run_id: str,
                     planned: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], policy: GatePolicy,
                     settings: TrialSettings) -> tuple[CheckResult, InterleavedResult]:
    """Re-measure the git ``ref`` and this folder side by side (``trials`` per side, up to
    ``max_trials`` while undecided) and judge every gated case."""
    sha = resolve_commit(cwd, ref)
    with checkout(cwd, sha) as base_folder:
        result = compare_folders(Side.at(base_folder), Side.at(cwd), case_refs(planned, policy), policy,
                                 settings, trials, max_trials)
    return CheckResult(run_id, ref, f"git:{sha}", result.verdicts), result


__all__ += ["TrialSettings"]
