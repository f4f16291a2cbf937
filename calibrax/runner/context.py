"""The one context a run's stages share: its typed config, store, plan and options.

Built once by :func:`calibrax.runner.run.run_benchmarks` after planning, then passed to each
stage (execute and record, judge, export) so none of them re-reads the config or the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from calibrax.analysis import GatePolicy
from calibrax.profiling import ProfilingOptions
from calibrax.runner.config import CalibraxConfig
from calibrax.runner.plan import PlannedBenchmark
from calibrax.storage import Store

__all__ = ["RunContext"]


@dataclass(frozen=True)
class RunContext:
    """Everything the stages of one run read.

    Attributes:
        cfg: the typed config, with each benchmark's YAML thresholds merged in.
        cwd: the folder the run belongs to (reports and the user's conf/ are relative to it).
        store: the open store the run is written to.
        run_id: the run's id.
        planned: the benchmarks and grid points to measure, in order.
        profiling: the profilers and peaks sent to every case.
        policy: the gate policy from ``cfg.thresholds``.
        spool_dir: with ``store.mode=spool`` in a sweep, the job folder the run is also
            written to as JSON.
    """

    cfg: CalibraxConfig
    cwd: Path
    store: Store
    run_id: str
    planned: tuple[PlannedBenchmark, ...]
    profiling: ProfilingOptions
    policy: GatePolicy
    spool_dir: Path | None = None
