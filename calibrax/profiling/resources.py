"""Process resources over the timed rounds: peak RSS, CPU time and utilisation, memory growth.

Peak RSS on Linux comes from ``VmHWM`` in ``/proc/self/status`` after writing ``5`` to
``/proc/self/clear_refs`` (which resets the high-water mark), so nothing runs during the rounds.
Where that is not possible a daemon thread samples the RSS every ``interval`` seconds.

Memory growth is the RSS after the rounds minus the RSS before. When it exceeds
``LEAK_MIN_BYTES``, the workload is called as many times again (bounded to about
``LEAK_CHECK_SECONDS``) untimed; a leak is flagged when RSS grows again at half the first
rate or more, since allocator caches grow once and then stay.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["LEAK_CHECK_SECONDS", "LEAK_MIN_BYTES", "ResourcesProfiler", "current_rss", "peak_rss_supported"]

LEAK_MIN_BYTES = 1 << 20
"""Growth over the rounds below this is never a leak (allocator and cache noise)."""
LEAK_CHECK_SECONDS = 0.5
"""The confirming run of a suspected leak lasts at most about this long."""

_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


def current_rss() -> int:
    """The resident set size of this process, in bytes."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def _vm_hwm() -> int | None:
    try:
        with open(_STATUS, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the kernel's RSS high-water mark; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return _vm_hwm() is not None


def peak_rss_supported() -> bool:
    """True when peak RSS can be read without a sampling thread here."""
    return _reset_hwm()


class _RssSampler:
    """A daemon thread keeping the largest RSS seen, for systems without VmHWM reset."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.peak = current_rss()
        self.samples = 1
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calibrax-rss", daemon=True)

    def _run(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._done.wait(self.interval):
            self.peak = max(self.peak, int(proc.memory_info().rss))
            self.samples += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())
        return self.peak


@register_profiler
class ResourcesProfiler(BaseProfiler):
    """``peak_rss`` (B), ``cpu_time`` (CPU s per call), ``cpu_utilization`` (busy cores),
    ``rss_growth`` (B over the rounds) with a ``leak_suspected`` flag in its meta."""

    name = "resources"
    produces = ("peak_rss", "cpu_utilization", "cpu_time", "rss_growth")

    def __init__(self, context: ProfileContext, *, use_sampler: bool | None = None, interval: float = 0.01) -> None:
        super().__init__(context)
        self._use_sampler = use_sampler
        self._interval = interval
        self._sampler: _RssSampler | None = None
        self._workload: Workload | None = None

    def start(self, workload: Workload) -> None:
        self._workload = workload
        sampler = self._use_sampler if self._use_sampler is not None else not _reset_hwm()
        self._rss0 = current_rss()
        if sampler:
            self._sampler = _RssSampler(self._interval)
            self._sampler.start()
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()

    def stop(self) -> None:
        self._cpu = time.process_time() - self._cpu0
        self._wall = time.perf_counter() - self._wall0
        if self._sampler is not None:
            self._peak, self._method = self._sampler.stop(), f"sampled every {self._interval} s"
        else:
            self._peak, self._method = _vm_hwm() or current_rss(), "VmHWM after clear_refs"
        self._rss1 = current_rss()

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        cpu, wall, peak, method, rss1 = self._cpu, self._wall, self._peak, self._method, self._rss1
        calls = _calls(measures)
        out: dict[str, MeasureResult] = {
            "peak_rss": MeasureResult(measure_for("peak_rss"), (float(peak),), meta={"method": method}),
            "cpu_utilization": MeasureResult(
                measure_for("cpu_utilization", "cores", Direction.INFO), (cpu / wall if wall > 0 else 0.0,),
                meta={"cpu_seconds": cpu, "wall_seconds": wall, "usable_cores": _usable_cores()},
            ),
        }
        unavailable: dict[str, str] = {}
        if calls:
            out["cpu_time"] = MeasureResult(measure_for("cpu_time", "s", Direction.LOWER), (cpu / calls,),
                                            meta={"calls": calls, "per": "call"})
        else:
            unavailable["cpu_time"] = "the timed rounds did not report how many calls they made"
        growth = rss1 - self._rss0
        t = measures.get("time")
        per_call = min(t.samples) if t is not None and t.samples else 0.0
        leak_meta = self._leak_check(growth, calls, per_call)
        out["rss_growth"] = MeasureResult(measure_for("rss_growth", "B", Direction.LOWER), (float(growth),),
                                          meta={"rss_before": self._rss0, "rss_after": rss1, **leak_meta})
        return ProfileOutput(out, unavailable, {"peak_rss_method": method, **leak_meta})

    def _leak_check(self, growth: int, calls: int, per_call: float) -> dict[str, Any]:
        """Call the workload again when RSS grew; a leak keeps growing at a similar rate."""
        if growth <= LEAK_MIN_BYTES or not calls or self._workload is None:
            return {"leak_suspected": False}
        repeat = calls if per_call <= 0 else max(1, min(calls, int(LEAK_CHECK_SECONDS / per_call)))
        import jax

        before = current_rss()
        for _ in range(repeat):
            jax.block_until_ready(self._workload.call())
        again = current_rss() - before
        rate1, rate2 = growth / calls, again / repeat
        return {"leak_suspected": again > 0 and rate2 >= 0.5 * rate1,
                "growth_per_call": rate1, "confirm_calls": repeat, "confirm_growth_per_call": rate2}


def _calls(measures: Mapping[str, MeasureResult]) -> int:
    t = measures.get("time")
    if t is None:
        return 0
    return int(t.meta.get("calls_per_round", 0)) * int(t.meta.get("rounds", 0))


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
