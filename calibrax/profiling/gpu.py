"""Device memory (``Device.memory_stats()``) and NVML telemetry sampled while a case runs.

``memory``: peak and in-use device memory and the allocator's limit, read after the rounds
from every device the compiled case's inputs and outputs live on (JAX's default device for a
plain callable). ``device_peak_memory`` is the largest per-device peak (the device that runs
out first), ``device_memory_in_use`` the largest in-use figure; the meta keeps each device's
figures under ``per_device`` and their sums (``peak_sum``, ``in_use_sum``).
``XLA_PYTHON_CLIENT_PREALLOCATE`` (JAX preallocates 75% of GPU memory unless it is ``false``)
is recorded beside them. The CPU backend has no memory stats, so there the measures are
unavailable.

``gpu``: a daemon thread reads NVML every ``interval`` seconds during the timed rounds, on
every GPU the case runs on (matched to JAX's devices by UUID, see ``_nvml``): utilisation (%
of time a kernel ran; the mean over GPUs), memory used (sum), SM and memory clocks (the
slowest GPU), temperature (the hottest), power (sum; ``NVML_FI_DEV_POWER_INSTANT`` where the
driver has it, else ``nvmlDeviceGetPowerUsage``, a ~1 s average on recent GPUs; the meta says
which) and throttle reasons. The meta keeps each GPU's medians under ``per_device`` (by
UUID). Without NVML or a GPU each measure is unavailable with the reason.
"""

from __future__ import annotations

import os
import statistics
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling._nvml import NvmlHandle, open_devices
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
    produces = ("device_peak_memory", "device_memory_in_use")
    _devices: list[Any] | None = None

    def compiled(self, executable: Any) -> None:
        from calibrax.profiling.flops import executable_devices

        self._devices = executable_devices(executable) or None

    def start(self, workload: Workload) -> None:
        self._devices = self._devices or _default_devices()
        self._before = _memory_stats(self._devices)

    def stop(self) -> None:
        self._after = _memory_stats(self._devices or _default_devices())

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        per_device = {k: v for k, v in self._after.items() if v}
        names = ("device_peak_memory", "device_memory_in_use")
        devices = list(self._after)
        meta: dict[str, Any] = {"device": devices[0] if len(devices) == 1 else devices, "devices": devices,
                                **preallocation()}
        if not per_device:
            reason = f"{', '.join(devices)} report no memory stats (JAX's CPU backend has none)"
            return ProfileOutput(unavailable={n: reason for n in names}, meta=meta)
        limits = [float(s["bytes_limit"]) for s in per_device.values() if s.get("bytes_limit") is not None]
        meta.update(bytes_limit=min(limits) if limits else None,
                    peak_note="peak since the process started: JAX cannot reset it per case",
                    in_use_before=_sum_key(self._before, "bytes_in_use"),
                    per_device={k: {key: v.get(key) for key in ("peak_bytes_in_use", "bytes_in_use", "bytes_limit")}
                                for k, v in per_device.items()},
                    peak_sum=_sum_key(per_device, "peak_bytes_in_use"), in_use_sum=_sum_key(per_device, "bytes_in_use"))
        if len(per_device) < len(devices):
            meta["devices_without_stats"] = [k for k in devices if k not in per_device]
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        for name, key in zip(names, ("peak_bytes_in_use", "bytes_in_use"), strict=True):
            values = [float(v[key]) for v in per_device.values() if v.get(key) is not None]
            if not values:
                unavailable[name] = f"memory_stats() of {', '.join(per_device)} has no {key}"
                continue
            found[name] = MeasureResult(measure_for(name, "B", Direction.LOWER), (max(values),), meta={
                "bytes_limit": meta["bytes_limit"], "basis": "measured", "aggregate": "max over devices",
                "sum": sum(values), "devices": len(values)})
        return ProfileOutput(found, unavailable, meta)


def _sum_key(stats: Mapping[str, Mapping[str, Any] | None], key: str) -> float | None:
    values = [float(v[key]) for v in stats.values() if v and v.get(key) is not None]
    return sum(values) if values else None


def _default_devices() -> list[Any]:
    """JAX's default device: where a case with no compiled shardings runs."""
    import jax

    return [jax.devices()[0]]


def _device_label(device: Any) -> str:
    return f"{device.platform}:{device.id}:{device.device_kind}"


def _memory_stats(devices: Sequence[Any]) -> dict[str, dict[str, Any] | None]:
    """Each device's ``memory_stats()`` (None where it has none), by ``platform:id:kind``."""
    out: dict[str, dict[str, Any] | None] = {}
    for device in devices:
        stats = device.memory_stats()
        out[_device_label(device)] = dict(stats) if stats else None
    return out


_AGGREGATE: Mapping[str, Callable[[list[float]], float]] = {
    "gpu_utilization": statistics.fmean, "gpu_memory_used": sum, "sm_clock": min, "memory_clock": min,
    "gpu_temperature": max, "gpu_power": sum,
}
"""How one reading of every GPU becomes one sample of each measure."""
_AGGREGATE_NAMES = {"gpu_utilization": "mean over GPUs", "gpu_memory_used": "sum over GPUs",
                    "sm_clock": "slowest GPU", "memory_clock": "slowest GPU", "gpu_temperature": "hottest GPU",
                    "gpu_power": "sum over GPUs"}


def _power_instant(nv: NvmlHandle) -> tuple[float | None, str | None]:
    """Instantaneous power in W from ``NVML_FI_DEV_POWER_INSTANT``; (None, reason) without it."""
    field_id = getattr(nv.nvml, "NVML_FI_DEV_POWER_INSTANT", None)
    if field_id is None:
        return None, "this NVML has no NVML_FI_DEV_POWER_INSTANT"
    values, reason = nv.read("nvmlDeviceGetFieldValues", [field_id])
    if reason is not None or not values:
        return None, reason or "nvmlDeviceGetFieldValues returned nothing"
    value = values[0]
    if int(getattr(value, "nvmlReturn", 0)) != 0:
        return None, f"NVML_FI_DEV_POWER_INSTANT not supported (NVML return {value.nvmlReturn})"
    raw = getattr(getattr(value, "value", None), "uiVal", None)
    return (float(raw) * 1e-3, None) if raw is not None else (None, "NVML_FI_DEV_POWER_INSTANT had no value")


class _DeviceReader:
    """Reads every NVML measure of one GPU."""

    def __init__(self, nv: NvmlHandle) -> None:
        self.nv = nv
        instant, _ = _power_instant(nv)
        self.power_source = "NVML_FI_DEV_POWER_INSTANT" if instant is not None else "nvmlDeviceGetPowerUsage (~1 s average)"

    def read(self) -> tuple[dict[str, float], dict[str, str], set[str]]:
        nvml, nv = self.nv.nvml, self.nv
        values: dict[str, float] = {}
        reasons: dict[str, str] = {}
        for name, (_, _, fn, scale) in GPU_MEASURES.items():
            value: Any
            if name == "gpu_power" and self.power_source.startswith("NVML_FI"):
                value, reason = _power_instant(nv)
                scale = 1.0
            elif name in ("sm_clock", "memory_clock"):
                value, reason = nv.read(fn, nvml.NVML_CLOCK_SM if name == "sm_clock" else nvml.NVML_CLOCK_MEM)
            elif name == "gpu_temperature":
                value, reason = nv.read(fn, nvml.NVML_TEMPERATURE_GPU)
            else:
                value, reason = nv.read(fn)
            if reason is not None:
                reasons[name] = reason
                continue
            if name == "gpu_utilization":
                value = value.gpu
            elif name == "gpu_memory_used":
                value = value.used
            values[name] = float(value) * scale
        throttle: set[str] = set()
        mask, reason = nv.read("nvmlDeviceGetCurrentClocksThrottleReasons")
        if reason is None:
            throttle = {short for const, short in THROTTLE_REASONS.items() if int(mask) & int(getattr(nvml, const, 0))}
        return values, reasons, throttle


class _Sampler:
    """Reads every NVML measure of every GPU each ``interval`` seconds in a daemon thread."""

    def __init__(self, handles: Sequence[NvmlHandle], interval: float) -> None:
        self.readers = [_DeviceReader(nv) for nv in handles]
        self.interval = interval
        self.values: dict[str, list[float]] = {m: [] for m in GPU_MEASURES}
        self.per_device: dict[str, dict[str, list[float]]] = {r.nv.label: {m: [] for m in GPU_MEASURES}
                                                               for r in self.readers}
        self.reasons: dict[str, str] = {}
        self.throttle: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calibrax-nvml", daemon=True)

    def sample(self) -> None:
        readings = []
        for reader in self.readers:
            values, reasons, throttle = reader.read()
            readings.append(values)
            self.throttle.update(throttle)
            for name, reason in reasons.items():
                self.reasons[name] = f"{reader.nv.label}: {reason}"
            for name, value in values.items():
                self.per_device[reader.nv.label][name].append(value)
        for name in GPU_MEASURES:
            got = [r[name] for r in readings if name in r]
            if len(got) == len(readings):  # a sum over some GPUs only would under-count
                self.values[name].append(float(_AGGREGATE[name](got)))

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
    produces = tuple(GPU_MEASURES)

    def __init__(self, context: ProfileContext, *, interval: float = 0.05) -> None:
        super().__init__(context)
        self.interval = interval
        self._sampler: _Sampler | None = None
        self._reason: str | None = None
        self._devices: list[Any] | None = None

    def compiled(self, executable: Any) -> None:
        from calibrax.profiling.flops import executable_devices

        self._devices = executable_devices(executable) or None

    def start(self, workload: Workload) -> None:
        handles, self._reason = open_devices(self._devices)
        if handles:
            self._sampler = _Sampler(handles, self.interval)
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
        first = s.readers[0].nv
        for name, (unit, direction, _, _) in GPU_MEASURES.items():
            if s.values[name]:
                meta: dict[str, Any] = {"interval": self.interval, "nvml_index": first.index, "basis": "measured",
                                        "gpus": len(s.readers), "aggregate": _AGGREGATE_NAMES[name]}
                if name == "gpu_power":
                    meta["power_source"] = sorted({r.power_source for r in s.readers})
                found[name] = MeasureResult(measure_for(name, unit, direction), tuple(s.values[name]), meta=meta)
            else:
                unavailable[name] = s.reasons.get(name, "NVML returned no sample")
        per_device = {label: {m: statistics.median(v) for m, v in series.items() if v}
                      for label, series in s.per_device.items()}
        meta_out = {"throttle_reasons": sorted(s.throttle), **_static_facts(first), "per_device": per_device,
                    "matched_by": {r.nv.label: r.nv.matched_by for r in s.readers}}
        return ProfileOutput(found, unavailable, meta_out)


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
