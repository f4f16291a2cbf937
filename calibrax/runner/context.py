"""The one context a run's stages share: its typed config, store, plan and options.

Built once by :func:`calibrax.runner.run.run_benchmarks` after planning, then passed to each
stage (execute and record, judge, export) so none of them re-reads the config or the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibrax.analysis import GatePolicy
from calibrax.core.models import RunInfo
from calibrax.profiling import ProfilingOptions, hardware_info, host_info
from calibrax.runner.config import CalibraxConfig
from calibrax.runner.plan import PlannedBenchmark
from calibrax.storage import Store

__all__ = ["RunContext", "RunStart"]


@dataclass
class RunStart:
    """Begins the run in the store once, as soon as the first worker says which device it runs
    on (or before the first case is stored, if no worker got that far), and records the
    machine's fingerprint from that device. A hardware target that cannot start fails in the
    first worker before the run begins, so nothing is stored for it."""

    store: Store
    run: RunInfo
    begun: bool = False
    hardware_set: bool = field(default=False)

    def __call__(self, device: Mapping[str, Any] | None = None) -> None:
        if not self.begun:
            self.store.begin_run(self.run)
            self.begun = True
        if device is not None and not self.hardware_set:
            self.store.set_run_hardware(self.run.id, hardware_info(host_info(), dict(device)))
            self.hardware_set = True


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
        start: begins the run in the store (once) and records its hardware.
    """

    cfg: CalibraxConfig
    cwd: Path
    store: Store
    run_id: str
    planned: tuple[PlannedBenchmark, ...]
    profiling: ProfilingOptions
    policy: GatePolicy
    spool_dir: Path | None = None
    start: RunStart | None = None

    def begin(self) -> None:
        """Make sure the run is in the store before a case is written to it."""
        if self.start is not None:
            self.start()
