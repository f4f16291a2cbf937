"""Device memory (``Device.memory_stats()``) and NVML telemetry sampled while a case runs.

``memory``: peak and in-use device memory and the allocator's limit, read from JAX's first
device after the rounds; ``XLA_PYTHON_CLIENT_PREALLOCATE`` (JAX preallocates 75% of GPU memory
unless it is ``false``) is recorded beside them. The CPU backend has no memory stats, so there
the measures are unavailable.

``gpu``: a daemon thread reads NVML every ``interval`` seconds during the timed rounds:
utilisation (% of time a kernel ran), memory used, SM and memory clocks, temperature, power
and throttle reasons. Without NVML or a GPU each measure is unavailable with the reason.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from calibrax.core.adapters import Workload
from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.profiling._nvml import NvmlHandle, open_device
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["GPU_MEASURES", "GpuProfiler", "MemoryProfiler", "THROTTLE_REASONS", "preallocation"]

GPU_MEASURES: Mapping[str, tuple[str, Direction, str, float]] = {
    # measure -> (unit, direction, NVML reader, scale to the unit)
    "gpu_utilization": ("%", Direction.INFO, "nvmlDeviceGetUtilizationRates", 1.0),
    "gpu_memory_used": ("B", Direction.LOWER, "nvmlDeviceGetMemoryInfo", 1.0),
    "sm_clock": ("MHz", Direction.INFO, "nvmlDeviceGetClockInfo", 1.0),
    "memory_clock": ("MHz", Direction.INFO, "nvmlDeviceGetClockInfo", 1.0),
    "gpu_temperature": ("C", Direction.LOWER, "nvmlDeviceGetTemperature", 1.0),
    "gpu_power": ("W", Direction.LOWER, "nvmlDeviceGetPowerUsage", 1e-3),
}
"""The NVML measures of the ``gpu`` profiler, with their units."""

THROTTLE_REASONS: Mapping[str, str] = {
    "nvmlClocksThrottleReasonGpuIdle": "gpu_idle",
    "nvmlClocksThrottleReasonApplicationsClocksSetting": "applications_clocks",
    "nvmlClocksThrottleReasonSwPowerCap": "sw_power_cap",
    "nvmlClocksThrottleReasonHwSlowdown": "hw_slowdown",
    "nvmlClocksThrottleReasonSyncBoost": "sync_boost",
    "nvmlClocksThrottleReasonSwThermalSlowdown": "sw_thermal",
    "nvmlClocksThrottleReasonHwThermalSlowdown": "hw_thermal",
    "nvmlClocksThrottleReasonHwPowerBrakeSlowdown": "hw_power_brake",
}
"""NVML throttle-reason bit constants and the short names stored for them."""


def preallocation() -> dict[str, Any]:
    """How JAX sizes its GPU memory pool, from the environment.

    Example:
        >>> sorted(preallocation())
        ['XLA_PYTHON_CLIENT_ALLOCATOR', 'XLA_PYTHON_CLIENT_MEM_FRACTION', 'XLA_PYTHON_CLIENT_PREALLOCATE', 'preallocates']
    """
    env = {k: os.environ.get(k) for k in ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION",
                                          "XLA_PYTHON_CLIENT_ALLOCATOR")}
    pre = (env["XLA_PYTHON_CLIENT_PREALLOCATE"] or "true").lower() not in ("false", "0")
    return {**env, "preallocates": pre and env["XLA_PYTHON_CLIENT_ALLOCATOR"] != "platform"}


@register_profiler
class MemoryProfiler(BaseProfiler):
    """``device_peak_memory`` and ``device_memory_in_use`` (B) from ``Device.memory_stats()``."""

    name = "memory"

    def start(self, workload: Workload) -> None:
        self._before = _memory_stats()

    def stop(self) -> None:
        self._after = _memory_stats()

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        stats, device = self._after, _device_name()
        names = ("device_peak_memory", "device_memory_in_use")
        meta: dict[str, Any] = {"device": device, **preallocation()}
        if not stats:
            reason = f"{device} reports no memory stats (JAX's CPU backend has none)"
            return ProfileOutput(unavailable={n: reason for n in names}, meta=meta)
        meta.update(bytes_limit=stats.get("bytes_limit"),
                    peak_note="peak since the process started: JAX cannot reset it per case",
                    in_use_before=(self._before or {}).get("bytes_in_use"))
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        for name, key in zip(names, ("peak_bytes_in_use", "bytes_in_use"), strict=True):
            if stats.get(key) is None:
                unavailable[name] = f"memory_stats() of {device} has no {key}"
            else:
                found[name] = MeasureResult(measure_for(name, "B", Direction.LOWER), (float(stats[key]),),
                                            meta={"bytes_limit": stats.get("bytes_limit")})
        return ProfileOutput(found, unavailable, meta)


def _memory_stats() -> dict[str, Any] | None:
    import jax

    stats = jax.devices()[0].memory_stats()
    return dict(stats) if stats else None


def _device_name() -> str:
    import jax

    d = jax.devices()[0]
    return f"{d.platform}:{d.device_kind}"


class _Sampler:
    """Reads every NVML measure each ``interval`` seconds in a daemon thread."""

    def __init__(self, nv: NvmlHandle, interval: float) -> None:
        self.nv, self.interval = nv, interval
        self.values: dict[str, list[float]] = {m: [] for m in GPU_MEASURES}
        self.reasons: dict[str, str] = {}
        self.throttle: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calibrax-nvml", daemon=True)

    def sample(self) -> None:
        nvml = self.nv.nvml
        readers: dict[str, tuple[Any, str | None]] = {}
        for name, (_, _, fn, _) in GPU_MEASURES.items():
            if name == "sm_clock":
                readers[name] = self.nv.read(fn, nvml.NVML_CLOCK_SM)
            elif name == "memory_clock":
                readers[name] = self.nv.read(fn, nvml.NVML_CLOCK_MEM)
            elif name == "gpu_temperature":
                readers[name] = self.nv.read(fn, nvml.NVML_TEMPERATURE_GPU)
            else:
                readers[name] = self.nv.read(fn)
        for name, (value, reason) in readers.items():
            if reason is not None:
                self.reasons[name] = reason
                continue
            if name == "gpu_utilization":
                value = value.gpu
            elif name == "gpu_memory_used":
                value = value.used
            self.values[name].append(float(value) * GPU_MEASURES[name][3])
        mask, reason = self.nv.read("nvmlDeviceGetCurrentClocksThrottleReasons")
        if reason is None:
            self.throttle.update(short for const, short in THROTTLE_REASONS.items()
                                 if int(mask) & int(getattr(nvml, const, 0)))

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self.sample()


@register_profiler
class GpuProfiler(BaseProfiler):
    """NVML telemetry during the rounds: utilisation, memory, clocks, temperature, power."""

    name = "gpu"

    def __init__(self, context: ProfileContext, *, interval: float = 0.05) -> None:
        super().__init__(context)
        self.interval = interval
        self._sampler: _Sampler | None = None
        self._reason: str | None = None

    def start(self, workload: Workload) -> None:
        nv, self._reason = open_device()
        if nv is not None:
            self._sampler = _Sampler(nv, self.interval)
            self._sampler.start()

    def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.stop()

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        if self._sampler is None:
            return ProfileOutput(unavailable={m: str(self._reason) for m in GPU_MEASURES})
        s = self._sampler
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        for name, (unit, direction, _, _) in GPU_MEASURES.items():
            if s.values[name]:
                found[name] = MeasureResult(measure_for(name, unit, direction), tuple(s.values[name]),
                                            meta={"interval": self.interval, "nvml_index": s.nv.index})
            else:
                unavailable[name] = s.reasons.get(name, "NVML returned no sample")
        meta = {"throttle_reasons": sorted(s.throttle), **_static_facts(s.nv)}
        return ProfileOutput(found, unavailable, meta)


def _static_facts(nv: NvmlHandle) -> dict[str, Any]:
    """Name and power limit of the GPU, where NVML reports them."""
    out: dict[str, Any] = {}
    name, _ = nv.read("nvmlDeviceGetName")
    if name is not None:
        out["name"] = name.decode() if isinstance(name, bytes) else str(name)
    limit, _ = nv.read("nvmlDeviceGetPowerManagementLimit")
    if limit is not None:
        out["power_limit_w"] = float(limit) / 1000.0
    return out
