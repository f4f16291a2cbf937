"""Energy per call: GPU from NVML's total-energy counter, CPU from RAPL, wraps handled.

Both are counters read before and after a region; the energy of one call is their difference
over the calls made. NVML's counter (mJ, Volta and newer) ticks every 20-100 ms, so a timed
region shorter than ``MIN_REGION`` seconds, or one over which no counter moved, is not used:
the workload is called again, untimed, for at least ``MIN_REGION`` seconds and that region is
measured instead. A source whose counter still did not move is unavailable, never 0 J.

- GPUs: every GPU the compiled case runs on (matched to JAX's devices by UUID, see ``_nvml``);
  ``gpu_energy`` is their sum and the meta keeps each GPU's share under ``per_device``.
- CPU: RAPL's top-level zones. ``psys`` (the platform zone) already contains the package
  zones, so when it exists it is used alone; otherwise the top-level zones (packages, and a
  top-level DRAM zone where there is one) are summed. The meta's ``rapl_rule`` says which.
  ``energy_uj`` wraps at ``max_energy_range_uj``; a smaller second reading means one wrap.
- Idle baseline: just before the rounds the counters are read over ``baseline_seconds`` of
  idle time. ``energy`` (and ``gpu_energy``, ``cpu_energy``) are gross: all a source drew
  per call. ``energy_marginal`` is gross minus the idle power x the region's duration, per
  call: what running the case added. A source with no baseline leaves it unavailable.

A source that cannot be read (no NVML, no GPU, no RAPL, RAPL readable only by root) is
unavailable with its reason, never 0. Every figure's meta says ``basis: measured``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling._nvml import NvmlHandle, open_devices
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["BASELINE_SECONDS", "EnergyProfiler", "MIN_REGION", "RAPL_ROOT", "RaplZone", "counter_delta",
           "rapl_selection", "rapl_zones"]

MIN_REGION = 1.0
"""Seconds a measured region must last for the energy counters to resolve it."""
BASELINE_SECONDS = 0.5
"""Seconds of idle time read before the rounds for the idle baseline."""
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
    """A top-level RAPL domain (a CPU package, or the platform's ``psys``): its name and counter."""

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


def rapl_selection(zones: Sequence[RaplZone]) -> tuple[list[RaplZone], str]:
    """The zones to sum without counting any energy twice, and the rule used.

    Example:
        >>> z = [RaplZone("package-0", Path("a"), None), RaplZone("psys", Path("b"), None)]
        >>> [x.name for x in rapl_selection(z)[0]]
        ['psys']
    """
    psys = [z for z in zones if z.name == "psys"]
    if psys:
        return psys, "psys alone: the platform zone already contains the package zones"
    return list(zones), "sum of the top-level zones (packages; no psys zone here)"


class _Counters:
    """One reading of every available energy counter, with the time it was taken."""

    def __init__(self, handles: Sequence[NvmlHandle], zones: Sequence[RaplZone]) -> None:
        self.t = time.perf_counter()
        self.gpu_mj: dict[str, int | None] = {}
        self.gpu_errors: dict[str, str] = {}
        for nv in handles:
            value, error = nv.read("nvmlDeviceGetTotalEnergyConsumption")
            self.gpu_mj[nv.label] = int(value) if value is not None else None
            if error is not None:
                self.gpu_errors[nv.label] = error
        self.rapl = [z.read() for z in zones]


@dataclass
class _Joules:
    """Energy over one region: per GPU, GPU total, CPU total (None where unavailable)."""

    per_gpu: dict[str, float]
    gpu: float | None
    cpu: float | None
    seconds: float
    unavailable: dict[str, str]


@register_profiler
class EnergyProfiler(BaseProfiler):
    """``energy`` and ``energy_marginal`` (J per call), ``gpu_energy`` and ``cpu_energy`` (gross)."""

    name = "energy"
    produces = ("energy", "gpu_energy", "cpu_energy", "energy_marginal")

    def __init__(self, context: ProfileContext, *, rapl_root: Path | None = None, min_region: float = MIN_REGION,
                 baseline_seconds: float = BASELINE_SECONDS) -> None:
        super().__init__(context)
        self.min_region = min_region
        self.baseline_seconds = baseline_seconds
        self.handles: list[NvmlHandle] = []
        self.gpu_reason: str | None = "not started"
        all_zones, self.cpu_reason = rapl_zones(rapl_root or RAPL_ROOT)
        self.zones, self.rapl_rule = rapl_selection(all_zones) if all_zones else ([], "")
        self._devices: list[Any] | None = None
        self._workload: Workload | None = None
        self._before: _Counters | None = None
        self._after: _Counters | None = None
        self._idle: _Joules | None = None

    def compiled(self, executable: Any) -> None:
        from calibrax.profiling.flops import executable_devices

        self._devices = executable_devices(executable) or None

    def start(self, workload: Workload) -> None:
        self._workload = workload
        self.handles, self.gpu_reason = open_devices(self._devices)
        if not self._sources():
            return
        if self.baseline_seconds > 0:
            a = self._read()
            time.sleep(self.baseline_seconds)
            self._idle = self._joules(a, self._read())
        self._before = self._read()

    def _read(self) -> _Counters:
        return _Counters(self.handles, self.zones)

    def _sources(self) -> bool:
        return bool(self.handles) or bool(self.zones)

    def stop(self) -> None:
        self._after = self._read() if self._before is not None else None

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        names = ("energy", "gpu_energy", "cpu_energy", "energy_marginal")
        if self._before is None or self._after is None:
            reason = f"GPU: {self.gpu_reason}; CPU: {self.cpu_reason}"
            return ProfileOutput(unavailable={"energy": reason, "energy_marginal": reason,
                                              "gpu_energy": str(self.gpu_reason), "cpu_energy": str(self.cpu_reason)})
        before, after = self._before, self._after
        t = measures.get("time")
        calls = int(t.meta.get("calls_per_round", 0)) * int(t.meta.get("rounds", 0)) if t else 0
        method = "timed rounds"
        if after.t - before.t < self.min_region or not calls or not self._moved(before, after):
            before, after, calls = self._repeat()
            method = f"repeated untimed for {after.t - before.t:.2f} s (the rounds were too short for the counters)"
        j = self._joules(before, after)
        meta: dict[str, Any] = {
            "method": method, "calls": calls, "region_seconds": j.seconds, "basis": "measured",
            "sources": [s for s, v in (("nvml", j.gpu), ("rapl", j.cpu)) if v is not None],
            "rapl_zones": [z.name for z in self.zones], "rapl_rule": self.rapl_rule or None,
            "per_device": {k: v / calls for k, v in j.per_gpu.items()},
            "matched_by": {nv.label: nv.matched_by for nv in self.handles},
        }
        found: dict[str, MeasureResult] = {}
        unavailable = dict(j.unavailable)
        for name, joules in (("gpu_energy", j.gpu), ("cpu_energy", j.cpu)):
            if joules is not None:
                found[name] = MeasureResult(measure_for(name, "J", Direction.LOWER), (joules / calls,), meta=dict(meta))
        if not found:
            unavailable["energy"] = "; ".join(unavailable[n] for n in names[1:3] if n in unavailable)
            unavailable["energy_marginal"] = "no energy counter moved"
            return ProfileOutput(found, unavailable, meta)
        total = sum(m.samples[0] for m in found.values())
        found["energy"] = MeasureResult(measure_for("energy"), (total,), meta={**meta, "kind": "gross"})
        marginal, why = self._marginal(j, calls, meta)
        if marginal is None:
            unavailable["energy_marginal"] = why
        else:
            found["energy_marginal"] = MeasureResult(measure_for("energy_marginal", "J", Direction.LOWER), (marginal,),
                                                     meta={**meta, "kind": "marginal", "note": why})
        return ProfileOutput(found, unavailable, meta)

    def _marginal(self, j: _Joules, calls: int, meta: dict[str, Any]) -> tuple[float | None, str]:
        """Gross minus the idle power over the region, per call; (None, why) without a baseline."""
        idle = self._idle
        if idle is None:
            return None, f"no idle baseline was measured (baseline_seconds={self.baseline_seconds})"
        total = 0.0
        for name, gross, base in (("gpu", j.gpu, idle.gpu), ("cpu", j.cpu, idle.cpu)):
            if gross is None:
                continue
            if base is None or idle.seconds <= 0:
                return None, f"the idle baseline of the {name} counters did not resolve (no counter moved over " \
                             f"{idle.seconds:.2f} s)"
            watts = base / idle.seconds
            meta[f"{name}_idle_watts"] = watts
            total += gross - watts * j.seconds
        meta["baseline_seconds"] = idle.seconds
        note = "gross energy minus idle power x region duration"
        if total < 0:
            note += "; negative: the case's draw is within the noise of the idle baseline"
        return total / calls, note

    def _moved(self, a: _Counters, b: _Counters) -> bool:
        return any(b.gpu_mj.get(k) not in (None, v) for k, v in a.gpu_mj.items() if v is not None) or a.rapl != b.rapl

    def _repeat(self) -> tuple[_Counters, _Counters, int]:
        """Call the workload untimed until ``min_region`` s passed and a counter moved."""
        import jax

        if self._workload is None:
            raise RuntimeError("EnergyProfiler.collect needs start(workload) first.")
        before, calls = self._read(), 0
        deadline = before.t + self.min_region
        while True:
            jax.block_until_ready(self._workload.call())
            calls += 1
            if time.perf_counter() >= deadline:
                after = self._read()
                if self._moved(before, after) or after.t - before.t > 10 * max(self.min_region, 0.01):
                    return before, after, calls

    def _joules(self, a: _Counters, b: _Counters) -> _Joules:
        seconds = b.t - a.t
        unavailable: dict[str, str] = {}
        per_gpu: dict[str, float] = {}
        gpu_j: float | None = None
        if self.handles:
            errors = {**a.gpu_errors, **b.gpu_errors}
            for label, x in a.gpu_mj.items():
                y = b.gpu_mj.get(label)
                if x is not None and y is not None and y != x:
                    per_gpu[label] = (y - x) / 1e3
                elif label not in errors:
                    errors[label] = f"the energy counter did not move over {seconds:.2f} s"
            if errors:  # a sum over some GPUs only would under-count
                unavailable["gpu_energy"] = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
                per_gpu = {}
            else:
                gpu_j = sum(per_gpu.values())
        else:
            unavailable["gpu_energy"] = str(self.gpu_reason)
        cpu_j: float | None = None
        if self.zones:
            uj = sum(counter_delta(x, y, z.max_range) for x, y, z in zip(a.rapl, b.rapl, self.zones, strict=True))
            if uj > 0:
                cpu_j = uj / 1e6
            else:
                unavailable["cpu_energy"] = f"the RAPL counters did not move over {seconds:.2f} s"
        else:
            unavailable["cpu_energy"] = str(self.cpu_reason)
        return _Joules(per_gpu, gpu_j, cpu_j, seconds, unavailable)

    def describe(self) -> dict[str, Any]:
        """Which sources this machine offers, and why the others are missing."""
        return {"nvml": bool(self.handles), "nvml_reason": self.gpu_reason,
                "gpus": [nv.label for nv in self.handles],
                "rapl_zones": [z.name for z in self.zones], "rapl_rule": self.rapl_rule, "rapl_reason": self.cpu_reason}
