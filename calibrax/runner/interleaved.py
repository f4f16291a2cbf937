"""Measure trials of cases in a given folder (a git worktree or the working tree itself).

Supplies the ``measure`` callable of :func:`calibrax.ci.interleaved.run_interleaved` for the
``ci=interleaved`` gate and for ``calibrax bisect``: each trial runs a benchmark's cases in a
fresh worker process whose ``sys.path`` starts with that side's folder.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibrax.analysis import GatePolicy
from calibrax.ci import Arm, CaseRef, CheckResult, InterleavedResult, run_interleaved
from calibrax.core.benchmark import BENCHMARKS
from calibrax.core.models import CaseStatus, measure_for
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.isolation import WorkerJob, run_isolated
from calibrax.runner.progress import format_duration
from calibrax.runner.worktree import checkout, resolve_commit

__all__ = ["Side", "case_refs", "compare_folders", "interleaved_gate", "trial_progress"]

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
    """How each trial measures: the protocol fields, platform and timeouts."""

    protocol: Mapping[str, Any]
    platform: str | None
    case_timeout: float
    start_timeout: float


def case_refs(planned: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], policy: GatePolicy) -> list[CaseRef]:
    """The cases of each (benchmark, grid points) and the statistical measures gated on them."""
    from calibrax.core.models import canonical_params

    out = []
    for bench, points in planned:
        measures = tuple(measure_for(m) for m in policy.gated(bench) if policy.rule(bench, m).rule == "statistical")
        if measures:
            out += [CaseRef(f"{bench}{canonical_params(p)}", bench, dict(p), measures) for p in points]
    return out


def _trial(side: Side, cases: Sequence[CaseRef], settings: TrialSettings) -> dict[str, dict[str, float]]:
    """One trial: each benchmark's cases in a fresh worker; per case, each measure's median."""
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
        job = WorkerJob(bench, entry.source if entry else None, [(i, r.params) for i, r in enumerate(refs)],
                        protocol, settings.platform, [str(side.folder)], settings.case_timeout,
                        settings.start_timeout)
        for index, case in run_isolated(job):
            if case.status is CaseStatus.OK:
                ref = refs[index]
                out[ref.key] = {m.name: statistics.median(case.measures[m.name].samples)
                                for m in ref.measures if case.measures.get(m.name) and case.measures[m.name].samples}
    return out


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

    def measure(arm: Arm, todo: Sequence[CaseRef]) -> Mapping[str, Mapping[str, float]]:
        return _trial(sides[arm], todo, settings)

    def progress(arm: Arm, number: int) -> None:
        side = "baseline" if arm == "A" else "candidate"
        line = f"interleaved {trial_progress(number, trials, max_trials, time.monotonic() - start)} ({side})"
        if on_trial is not None:
            on_trial(line)
        else:
            log.info("%s", line)

    return run_interleaved(measure, cases, policy, trials=trials, max_trials=max_trials, on_trial=progress)


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
