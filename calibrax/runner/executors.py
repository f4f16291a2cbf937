"""Stage 2 of a run, execute: where a benchmark's cases are measured.

An :class:`Executor` takes one planned benchmark and yields ``(index, CaseResult)`` for every
grid point, whatever happens to the benchmark. Two implementations:

- :class:`IsolatedExecutor` (``profile.isolation=process``, the default): a worker process
  per benchmark, so a crash or a hang is a stored ``crashed``/``timeout`` case; with two
  benchmarks or more, the workers are forked from one server that has imported JAX and the
  benchmarks' sources (:func:`worker_server`), each still a fresh process with its own backend;
- :class:`InProcessExecutor` (``profile.isolation=none``): in this process, for debugging.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from calibrax.core.models import CaseResult, CaseStatus
from calibrax.profiling import (
    ProfilingOptions,
    TimingProtocol,
    apply_platform,
    device_info,
    hardware_info,
    host_info,
)
from calibrax.runner.config import CalibraxConfig, Isolation
from calibrax.runner.execute import load_benchmark, run_case, utc_now
from calibrax.runner.forkserver import ForkServer, ForkServerUnavailable
from calibrax.runner.isolation import WorkerJob, run_isolated
from calibrax.runner.plan import PlannedBenchmark, protocol_settings
from calibrax.runner.profilers import needs_calibration, with_calibration

__all__ = ["Executor", "InProcessExecutor", "IsolatedExecutor", "OnDevice", "executor_for", "worker_server"]

log = logging.getLogger("calibrax")


class Executor(Protocol):
    """Measures a benchmark's cases somewhere."""

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        """``(index, result)`` for every grid point of ``bench``, in order."""
        ...


OnDevice = Callable[[Mapping[str, Any]], None]
"""Told the JAX device the cases run on, once it is known and before the first case is stored."""


@dataclass(frozen=True)
class IsolatedExecutor:
    """Each benchmark in a fresh worker process (crash- and timeout-safe); the first worker's
    greeting says the device, so no process is started only to learn it."""

    cfg: CalibraxConfig
    cwd: Path
    profiling: ProfilingOptions
    on_device: OnDevice | None = None
    server: ForkServer | None = None  # fork the workers from it (worker_server); started plainly without

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        profile = self.cfg.profile
        job = WorkerJob(
            bench.name, bench.source, list(enumerate(bench.cases)),
            protocol_settings(profile, allow_recompile=bench.allow_recompile), self.cfg.hardware.platform,
            [str(self.cwd)], profile.case_timeout, profile.worker_start_timeout, self.profiling.to_dict(),
            [m.to_dict() for m in bench.metrics], bench.output_checks(), needs_calibration(self.cfg),
            self.on_device, self.server,
        )
        return run_isolated(job)


@dataclass
class InProcessExecutor:
    """Every benchmark in this process: no case timeout, a crash ends the run."""

    cfg: CalibraxConfig
    cwd: Path
    profiling: ProfilingOptions
    on_device: OnDevice | None = None
    _started: bool = False

    def _start(self) -> None:
        """Start JAX on the target's platform once, and say which device it gave."""
        if self._started:
            return
        self._started = True
        apply_platform(self.cfg.hardware.platform)
        device = device_info(self.cfg.hardware.platform)
        if needs_calibration(self.cfg):
            self.profiling = with_calibration(self.profiling, hardware_info(host_info(), device))
        if self.on_device is not None:
            self.on_device(device)

    def run(self, bench: PlannedBenchmark) -> Iterator[tuple[int, CaseResult]]:
        self._start()
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


def executor_for(cfg: CalibraxConfig, cwd: Path, profiling: ProfilingOptions,
                 on_device: OnDevice | None = None, server: ForkServer | None = None) -> Executor:
    """The executor ``profile.isolation`` asks for; ``on_device`` hears the device once;
    ``server`` (from :func:`worker_server`) forks the isolated workers."""
    if cfg.profile.isolation is Isolation.none:
        return InProcessExecutor(cfg, cwd, profiling, on_device)
    return IsolatedExecutor(cfg, cwd, profiling, on_device, server)


def worker_server(cfg: CalibraxConfig, cwd: Path, planned: Sequence[PlannedBenchmark]) -> ForkServer | None:
    """A fork server for the workers of a run of two benchmarks or more, or None.

    Each benchmark's worker is then forked from a process that has imported JAX, calibrax's
    timing code and every benchmark's source once, instead of starting an interpreter that
    imports them again (the default suite's later benchmarks start about 0.8 s sooner each on
    2 cores); it is still a fresh process with
    its own JAX backend, compilation and memory layout, as the interleaved gate's trials are.
    One benchmark gains nothing from it; ``profile.isolation=none`` has no workers. A server
    that cannot serve (a source that starts a JAX backend when imported, no answer within
    ``profile.worker_start_timeout``) leaves the run to plain workers. The caller closes it.
    """
    if cfg.profile.isolation is Isolation.none or sum(1 for b in planned if b.cases) < 2:
        return None
    sources = sorted({b.source for b in planned if b.source})
    try:
        return ForkServer([str(cwd)], sources, cfg.profile.worker_start_timeout)
    except ForkServerUnavailable as exc:
        log.info("Benchmark workers start as new processes: %s", exc)
        return None
