"""Energy per call: GPU from NVML's total-energy counter, CPU from RAPL, wraps handled.

Both are counters read before and after a region; the energy of one call is their difference
over the calls made. NVML's counter (mJ, Volta and newer) ticks every 20-100 ms, so a timed
region shorter than ``MIN_REGION`` seconds, or one over which no counter moved, is not used:
the workload is called again, untimed, for at least ``MIN_REGION`` seconds and that region is
measured instead. RAPL's ``energy_uj`` counters wrap at ``max_energy_range_uj``; a smaller
second reading means the counter wrapped once. A source that cannot be read (no NVML, no GPU,
no RAPL, RAPL readable only by root) is unavailable with its reason, never 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibrax.core.adapters import Workload
from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.profiling._nvml import NvmlHandle, open_device
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["EnergyProfiler", "MIN_REGION", "RAPL_ROOT", "RaplZone", "counter_delta", "rapl_zones"]

MIN_REGION = 1.0
"""Seconds a measured region must last for the energy counters to resolve it."""
RAPL_ROOT = Path("/sys/class/powercap")


def counter_delta(before: int, after: int, max_range: int | None) -> int:
    """The increase of a counter that wraps to 0 after ``max_range`` (at most one wrap).

    Example:
        >>> counter_delta(90, 10, 100)
        20
        >>> counter_delta(10, 30, None)
        20
    """
    if after >= before:
        return after - before
    if not max_range:
        raise ValueError(f"The counter went back from {before} to {after} and its range is unknown.")
    return after + max_range - before


@dataclass(frozen=True)
class RaplZone:
    """A top-level RAPL domain (one CPU package): its name and counter files."""

    name: str
    energy_file: Path
    max_range: int | None

    def read(self) -> int:
        return int(self.energy_file.read_text().strip())


def rapl_zones(root: Path = RAPL_ROOT) -> tuple[list[RaplZone], str | None]:
    """The readable top-level RAPL zones under ``root``, or ``([], reason)``.

    Sub-zones (``intel-rapl:0:0``, cores or DRAM inside a package) are skipped: the package
    counter already includes them.
    """
    folders = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1) if root.is_dir() else []
    if not folders:
        return [], f"no RAPL counters under {root} (not an Intel/AMD host, or a VM that hides them)"
    zones: list[RaplZone] = []
    for folder in folders:
        try:
            max_file = folder / "max_energy_range_uj"
            max_range = int(max_file.read_text().strip()) if max_file.exists() else None
            name_file = folder / "name"
            name = name_file.read_text().strip() if name_file.exists() else folder.name
            zone = RaplZone(name, folder / "energy_uj", max_range)
            zone.read()
        except PermissionError:
            return [], f"RAPL counters under {root} are readable only by root (chmod o+r .../energy_uj to allow)"
        except (OSError, ValueError) as exc:
            return [], f"RAPL counter {folder} unreadable: {exc}"
        zones.append(zone)
    return zones, None


class _Counters:
    """One reading of every available energy counter (joules), with the time it was taken."""

    def __init__(self, nv: NvmlHandle | None, zones: list[RaplZone]) -> None:
        self.t = time.perf_counter()
        self.gpu_mj: int | None = None
        self.gpu_error: str | None = None
        if nv is not None:
            value, self.gpu_error = nv.read("nvmlDeviceGetTotalEnergyConsumption")
            self.gpu_mj = int(value) if value is not None else None
        self.rapl = [z.read() for z in zones]


@register_profiler
class EnergyProfiler(BaseProfiler):
    """``energy`` (J per call, every readable source), ``gpu_energy`` and ``cpu_energy``."""

    name = "energy"

    def __init__(self, context: ProfileContext, *, rapl_root: Path | None = None, min_region: float = MIN_REGION) -> None:
        super().__init__(context)
        self.min_region = min_region
        self.nv, self.gpu_reason = open_device()
        self.zones, self.cpu_reason = rapl_zones(rapl_root or RAPL_ROOT)
        self._workload: Workload | None = None
        self._before: _Counters | None = None
        self._after: _Counters | None = None

    def start(self, workload: Workload) -> None:
        self._workload = workload
        self._before = _Counters(self.nv, self.zones) if self._sources() else None

    def _sources(self) -> bool:
        return self.nv is not None or bool(self.zones)

    def stop(self) -> None:
        self._after = _Counters(self.nv, self.zones) if self._before is not None else None

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        names = ("energy", "gpu_energy", "cpu_energy")
        if self._before is None or self._after is None:
            reason = f"GPU: {self.gpu_reason}; CPU: {self.cpu_reason}"
            return ProfileOutput(unavailable={"energy": reason, "gpu_energy": str(self.gpu_reason),
                                              "cpu_energy": str(self.cpu_reason)})
        after = self._after
        t = measures.get("time")
        calls = int(t.meta.get("calls_per_round", 0)) * int(t.meta.get("rounds", 0)) if t else 0
        before, method = self._before, "timed rounds"
        if after.t - before.t < self.min_region or not calls or not self._moved(before, after):
            before, after, calls = self._repeat()
            method = f"repeated untimed for {after.t - before.t:.2f} s (the rounds were too short for the counters)"
        gpu_j, cpu_j, unavailable = self._joules(before, after)
        found: dict[str, MeasureResult] = {}
        meta = {"method": method, "calls": calls, "region_seconds": after.t - before.t,
                "sources": [s for s, v in (("nvml", gpu_j), ("rapl", cpu_j)) if v is not None],
                "rapl_zones": [z.name for z in self.zones]}
        for name, joules in (("gpu_energy", gpu_j), ("cpu_energy", cpu_j)):
            if joules is not None:
                found[name] = MeasureResult(measure_for(name, "J", Direction.LOWER), (joules / calls,), meta=dict(meta))
        if found:
            total = sum(m.samples[0] for m in found.values())
            found["energy"] = MeasureResult(measure_for("energy"), (total,), meta=dict(meta))
        else:
            unavailable["energy"] = "; ".join(unavailable[n] for n in names[1:] if n in unavailable)
        return ProfileOutput(found, unavailable, meta)

    def _moved(self, a: _Counters, b: _Counters) -> bool:
        return (a.gpu_mj is not None and b.gpu_mj is not None and b.gpu_mj != a.gpu_mj) or a.rapl != b.rapl

    def _repeat(self) -> tuple[_Counters, _Counters, int]:
        """Call the workload untimed until ``min_region`` s passed and a counter moved."""
        import jax

        assert self._workload is not None
        before, calls = _Counters(self.nv, self.zones), 0
        deadline = before.t + self.min_region
        while True:
            jax.block_until_ready(self._workload.call())
            calls += 1
            if time.perf_counter() >= deadline:
                after = _Counters(self.nv, self.zones)
                if self._moved(before, after) or after.t - before.t > 10 * self.min_region:
                    return before, after, calls

    def _joules(self, a: _Counters, b: _Counters) -> tuple[float | None, float | None, dict[str, str]]:
        unavailable: dict[str, str] = {}
        gpu_j: float | None = None
        if a.gpu_mj is not None and b.gpu_mj is not None:
            gpu_j = (b.gpu_mj - a.gpu_mj) / 1e3
        else:
            unavailable["gpu_energy"] = str(a.gpu_error or b.gpu_error or self.gpu_reason)
        cpu_j: float | None = None
        if self.zones:
            cpu_j = sum(counter_delta(x, y, z.max_range) for x, y, z in zip(a.rapl, b.rapl, self.zones, strict=True)) / 1e6
        else:
            unavailable["cpu_energy"] = str(self.cpu_reason)
        return gpu_j, cpu_j, unavailable

    def describe(self) -> dict[str, Any]:
        """Which sources this machine offers, and why the others are missing."""
        return {"nvml": self.nv is not None, "nvml_reason": self.gpu_reason,
                "rapl_zones": [z.name for z in self.zones], "rapl_reason": self.cpu_reason}
