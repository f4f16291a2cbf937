"""What the session prints at its end: one line per case, and whether xdist workers shared cores."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import psutil

from calibrax.core.models import CaseStatus
from calibrax.core.result import RunRecord
from calibrax.exporters import format_seconds

__all__ = ["case_lines", "physical_cores", "shared_cores_note"]


def physical_cores() -> int:
    """Physical cores this process may run on: the machine's, capped by its CPU affinity.

    Example:
        >>> physical_cores() >= 1
        True
    """
    cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        cores = min(cores, len(os.sched_getaffinity(0)))
    return max(cores, 1)


def shared_cores_note(workers: int, cores: int, load: float | None = None) -> str | None:
    """A warning when xdist workers timed cases on shared cores, else None.

    Workers share cores when there are more of them than physical cores, or when the load
    average seen after their cases was above the core count (other work ran beside them).

    Example:
        >>> shared_cores_note(4, 2).split(":")[0]
        'Workers shared cores'
        >>> shared_cores_note(2, 8, load=1.5) is None
        True
    """
    if workers < 2:
        return None
    advice = (f"cases timed at the same time slowed each other. Time without -n (or with -n {max(cores // 2, 1)} "
              "on a quiet machine) before gating or saving a baseline.")
    if workers > cores:
        return f"Workers shared cores: {workers} xdist workers ran on {cores} physical core(s); {advice}"
    if load is not None and load > cores:
        return (f"Workers shared cores: the load average reached {load:.1f} on {cores} physical core(s) "
                f"with {workers} xdist workers; {advice}")
    return None


def case_lines(record: RunRecord, db: Path) -> Sequence[str]:
    """The run's headline and one line per case: median time with its CI, or the error's last line.

    Example:
        >>> from calibrax.core.models import RunInfo, RunStatus
        >>> case_lines(RunRecord(RunInfo("r1", "", RunStatus.OK), ()), Path("calibrax.db"))[0]
        'Run r1 (ok): 0 case(s), 0 error(s), stored in calibrax.db'
    """
    errors = sum(c.status is not CaseStatus.OK for c in record.cases)
    lines = [f"Run {record.run.id} ({record.run.status.value}): {len(record.cases)} case(s), "
             f"{errors} error(s), stored in {db}"]
    for case in record.cases:
        params = " ".join(f"{k}={v}" for k, v in case.params.items())
        label = f"{case.benchmark} {params}".strip()
        time = case.measures.get("time")
        if case.status is CaseStatus.OK and time is not None and time.summary is not None:
            s = time.summary
            lines.append(f"  {label}: {format_seconds(s.median)} [{format_seconds(s.ci_low)}, "
                         f"{format_seconds(s.ci_high)}] ({s.n} rounds)")
        else:
            last = (case.error or "").strip().splitlines()
            lines.append(f"  {label}: {case.status.value.upper()} {last[-1] if last else ''}".rstrip())
    return lines
