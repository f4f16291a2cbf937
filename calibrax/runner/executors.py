"""Stage 2 of a run, execute: where a benchmark's cases are measured.

An :class:`Executor` takes one planned benchmark and yields ``(index, CaseResult)`` for every
grid point, whatever happens to the benchmark. Two implementations:

- :class:`IsolatedExecutor` (``profile.isolation=process``, the default): a worker process
  per benchmark, so a crash or a hang is a stored ``crashed``/``timeout`` case;
- :class:`InProcessExecutor` (``profile.isolation=none``): in this process, for debugging.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from calibrax.core.models import CaseResult, CaseStatus
from calibrax.profiling import ProfilingOptions, TimingProtocol, apply_platform, device_info
from calibrax.runner.config import CalibraxConfig, Isolation
from calibrax.runner.execute import load_benchmark, run_case, utc_now
from calibrax.runner.isolation import WorkerJob, probe_device, run_isolated
from calibrax.runner.plan import PlannedBenchmark, protocol_settings

__all__ = ["Executor", "InProcessExecutor", "IsolatedExecutor", "executor_for", "probe"]


class Executor(Protocol):
    """Measures a benchmark's cases somewhere."""

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        """``(index, result)`` for every grid point of ``bench``, in order."""
        ...


@dataclass(frozen=True)
class IsolatedExecutor:
    """Each benchmark in a fresh worker process (crash- and timeout-safe)."""

    cfg: CalibraxConfig
    cwd: Path
    profiling: ProfilingOptions

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        profile = self.cfg.profile
        job = WorkerJob(
            bench.name, bench.source, list(enumerate(bench.cases)),
            protocol_settings(profile, allow_recompile=bench.allow_recompile), self.cfg.hardware.platform,
            [str(self.cwd)], profile.case_timeout, profile.worker_start_timeout, self.profiling.to_dict(),
            [m.to_dict() for m in bench.metrics], bench.output_checks(),
        )
        return run_isolated(job)


@dataclass(frozen=True)
class InProcessExecutor:
    """Every benchmark in this process: no case timeout, a crash ends the run."""

    cfg: CalibraxConfig
    cwd: Path
    profiling: ProfilingOptions

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        if str(self.cwd) not in sys.path:
            sys.path.insert(0, str(self.cwd))
        try:
            spec = load_benchmark(bench.name, bench.source)
        except Exception:
            error = f"Cannot load benchmark {bench.name!r}:\n{traceback.format_exc()}"
            for i, params in enumerate(bench.cases):
                yield i, CaseResult(bench.name, params, CaseStatus.ERROR, error=error, started_at=utc_now())
            return
        protocol = TimingProtocol(**protocol_settings(self.cfg.profile, allow_recompile=bench.allow_recompile))
        checks = bench.output_checks()
        for i, params in enumerate(bench.cases):
            yield i, run_case(spec, params, protocol, self.profiling, bench.metrics, checks)


def probe(cfg: CalibraxConfig) -> dict[str, Any]:
    """The JAX device the run's cases will run on, seen where they will run: a short-lived
    worker under process isolation, this process otherwise.

    Raises:
        HardwareUnavailableError: the hardware target's platform cannot start here.
    """
    if cfg.profile.isolation is Isolation.none:
        apply_platform(cfg.hardware.platform)
        return device_info(cfg.hardware.platform)
    return probe_device(cfg.hardware.platform, cfg.profile.worker_start_timeout)


def executor_for(cfg: CalibraxConfig, cwd: Path, profiling: ProfilingOptions) -> Executor:
    """The executor ``profile.isolation`` asks for."""
    if cfg.profile.isolation is Isolation.none:
        return InProcessExecutor(cfg, cwd, profiling)
    return IsolatedExecutor(cfg, cwd, profiling)
