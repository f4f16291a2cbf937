"""GPU, energy and carbon profilers with NVML absent, broken, and faked (every branch)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from calibrax.core import Measure, MeasureResult, Workload, measure_for
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, _nvml, measure_profiled
from calibrax.profiling import energy as energy_mod
from calibrax.profiling import gpu as gpu_mod
from calibrax.profiling.carbon import CarbonProfiler, grams_co2e
from calibrax.profiling.energy import EnergyProfiler, counter_delta, rapl_zones
from calibrax.profiling.gpu import GPU_MEASURES, GpuProfiler, MemoryProfiler, preallocation
from calibrax.profiling.hardware import gpu_info

FAST = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)


class FakeNVMLError(Exception):
    pass


class FakeNvml:
    """Enough of pynvml for the profilers; ``broken`` names functions that raise NVMLError."""

    NVMLError = FakeNVMLError
    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0
    nvmlClocksThrottleReasonSwPowerCap = 0x4
    nvmlClocksThrottleReasonHwThermalSlowdown = 0x40

    def __init__(self, *, init_fails: bool = False, broken: tuple[str, ...] = (), energy_step: int = 500) -> None:
        self.init_fails, self.broken = init_fails, set(broken)
        self._energy = itertools.count(1_000_000, energy_step)

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("nvml") and name in object.__getattribute__(self, "broken"):
            def fail(*args: Any) -> Any:
                raise FakeNVMLError(f"{name}: Not Supported")
            return fail
        return object.__getattribute__(self, name)

    def nvmlInit(self) -> None:
        if self.init_fails:
            raise FakeNVMLError("Driver Not Loaded")

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return f"gpu{index}"

    def nvmlDeviceGetCount(self) -> int:
        return 4

    def nvmlDeviceGetUUID(self, h: str) -> str:
        return f"GPU-{h[3:]}000000-aaaa"

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        for i in range(self.nvmlDeviceGetCount()):
            if self.nvmlDeviceGetUUID(f"gpu{i}") == uuid:
                return f"gpu{i}"
        raise FakeNVMLError(f"{uuid}: Not Found")

    def nvmlDeviceGetIndex(self, h: str) -> int:
        return int(h[3:])

    def nvmlDeviceGetUtilizationRates(self, h: str) -> Any:
        return SimpleNamespace(gpu=87, memory=40)

    def nvmlDeviceGetMemoryInfo(self, h: str) -> Any:
        return SimpleNamespace(used=3 << 30, total=80 << 30, free=77 << 30)

    def nvmlDeviceGetClockInfo(self, h: str, kind: int) -> int:
        return 1980 if kind == self.NVML_CLOCK_SM else 2619

    def nvmlDeviceGetTemperature(self, h: str, sensor: int) -> int:
        return 61

    def nvmlDeviceGetPowerUsage(self, h: str) -> int:
        return 350_000  # mW

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h: str) -> int:
        return 0x4 | 0x40

    def nvmlDeviceGetTotalEnergyConsumption(self, h: str) -> int:
        return next(self._energy)  # mJ, rising on every read

    def nvmlDeviceGetName(self, h: str) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetPowerManagementLimit(self, h: str) -> int:
        return 700_000

    def nvmlDeviceGetCudaComputeCapability(self, h: str) -> tuple[int, int]:
        return (9, 0)

    def nvmlSystemGetDriverVersion(self) -> str:
        return "550.54.15"

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 12040


def gpu_device(i: int) -> Any:
    """A stand-in for JAX's i-th CUDA device."""
    return SimpleNamespace(platform="gpu", id=i, local_hardware_id=i, device_kind="NVIDIA H100 80GB HBM3")


@pytest.fixture
def use_nvml(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install a fake (or a missing) pynvml: ``use_nvml(FakeNvml(...))`` or ``use_nvml(None)``;
    JAX's default device reads as CUDA device 0."""

    def install(fake: FakeNvml | None) -> FakeNvml | None:
        def load() -> Any:
            if fake is None:
                raise ImportError("No module named 'pynvml'")
            return fake

        monkeypatch.setattr(_nvml, "_import", load)
        monkeypatch.setattr(_nvml, "_initialised", False)
        monkeypatch.setattr(_nvml, "_jax_devices", lambda: [gpu_device(0)])
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        return fake

    yield install


def _time(calls: int = 10, per_call: float = 1e-3) -> dict[str, MeasureResult]:
    return {"time": MeasureResult(measure_for("time"), (per_call,), meta={"calls_per_round": calls, "rounds": 1})}


def _run(profiler: Any, measures: dict[str, MeasureResult]) -> Any:
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    return profiler.collect(measures)


def test_without_nvml_every_gpu_measure_is_unavailable_and_names_the_extra(use_nvml: Any) -> None:
    use_nvml(None)
    assert _nvml.open_device() == (None, _nvml.INSTALL_HINT)
    out = _run(GpuProfiler(ProfileContext()), _time())
    assert set(out.unavailable) == set(GPU_MEASURES) and not out.measures
    assert all("pip install calibrax[gpu]" in r for r in out.unavailable.values())
    assert gpu_info() == {"unavailable": _nvml.INSTALL_HINT}


def test_nvml_without_a_gpu_is_unavailable_with_the_error(use_nvml: Any) -> None:
    use_nvml(FakeNvml(init_fails=True))
    handle, reason = _nvml.open_device()
    assert handle is None and "Driver Not Loaded" in str(reason)
    out = _run(EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent")), _time())
    assert not out.measures and "Driver Not Loaded" in out.unavailable["gpu_energy"]
    assert "no RAPL counters" in out.unavailable["cpu_energy"] and out.unavailable["energy"]


def test_gpu_telemetry_is_sampled_with_units_and_throttle_reasons(use_nvml: Any) -> None:
    use_nvml(FakeNvml(broken=("nvmlDeviceGetTemperature",)))
    out = _run(GpuProfiler(ProfileContext(), interval=0.001), _time())
    m = out.measures
    assert m["gpu_utilization"].samples[0] == 87 and m["gpu_utilization"].measure.unit == "%"
    assert m["gpu_memory_used"].samples[0] == 3 << 30
    assert m["sm_clock"].samples[0] == 1980 and m["memory_clock"].samples[0] == 2619
    assert m["gpu_power"].samples[0] == pytest.approx(350.0) and m["gpu_power"].measure.unit == "W"
    assert len(m["gpu_power"].samples) >= 2  # one reading at start, one at stop, more between
    assert "Not Supported" in out.unavailable["gpu_temperature"] and "gpu_temperature" not in m
    assert out.meta["throttle_reasons"] == ["hw_thermal", "sw_power_cap"]
    assert out.meta["name"] == "NVIDIA H100 80GB HBM3" and out.meta["power_limit_w"] == 700.0


def test_a_missing_nvml_function_is_unavailable_not_a_crash(use_nvml: Any) -> None:
    fake = use_nvml(FakeNvml())
    handle, _ = _nvml.open_device()
    assert handle is not None
    del FakeNvml.nvmlDeviceGetName  # an old NVML without it
    try:
        value, reason = handle.read("nvmlDeviceGetName")
    finally:
        FakeNvml.nvmlDeviceGetName = lambda self, h: b"NVIDIA H100 80GB HBM3"  # type: ignore[method-assign]
    assert value is None and "no nvmlDeviceGetName" in str(reason)
    assert fake is not None


def test_gpu_info_reports_driver_cuda_and_capability(use_nvml: Any) -> None:
    use_nvml(FakeNvml(broken=("nvmlSystemGetCudaDriverVersion",)))
    info = gpu_info()
    assert info["name"] == "NVIDIA H100 80GB HBM3" and info["compute_capability"] == "9.0"
    assert info["driver"] == "550.54.15" and info["memory_bytes"] == 80 << 30
    assert "Not Supported" in info["cuda_driver_unavailable"]


def test_gpu_energy_over_a_long_enough_region_is_per_call(use_nvml: Any) -> None:
    use_nvml(FakeNvml(energy_step=500))
    out = _run(EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.0, baseline_seconds=0.0), _time(calls=10))
    assert out.measures["gpu_energy"].samples == (0.05,)  # 500 mJ over 10 calls
    assert out.measures["energy"].samples == (0.05,) and out.meta["method"] == "timed rounds"
    assert out.meta["sources"] == ["nvml"] and "cpu_energy" in out.unavailable


def test_short_regions_are_repeated_until_the_counter_resolves_them(use_nvml: Any) -> None:
    use_nvml(FakeNvml(energy_step=100))
    profiler = EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.05, baseline_seconds=0.0)
    out = _run(profiler, _time(calls=10))
    assert out.meta["method"].startswith("repeated untimed") and out.meta["calls"] > 10
    assert out.measures["gpu_energy"].samples[0] == pytest.approx(0.1 / out.meta["calls"])


def test_an_unreadable_energy_counter_is_unavailable_never_zero(use_nvml: Any) -> None:
    use_nvml(FakeNvml(broken=("nvmlDeviceGetTotalEnergyConsumption",)))
    out = _run(EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.01, baseline_seconds=0.0), _time())
    assert "energy" not in out.measures and "Not Supported" in out.unavailable["gpu_energy"]


def _rapl(root: Path, name: str, energy: int, max_range: int | None = 1000) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "energy_uj").write_text(str(energy))
    (folder / "name").write_text(f"package-{name[-1]}")
    if max_range is not None:
        (folder / "max_energy_range_uj").write_text(str(max_range))
    return folder


def test_rapl_energy_handles_wraps_and_skips_subzones(tmp_path: Path, use_nvml: Any) -> None:
    use_nvml(None)
    pkg = _rapl(tmp_path, "intel-rapl:0", 900_000, max_range=1_000_000)
    _rapl(tmp_path, "intel-rapl:0:0", 5)  # a sub-zone, inside the package already
    zones, reason = rapl_zones(tmp_path)
    assert reason is None and [z.name for z in zones] == ["package-0"]
    profiler = EnergyProfiler(ProfileContext(), rapl_root=tmp_path, min_region=0.0, baseline_seconds=0.0)
    profiler.start(Workload(lambda: 1))
    (pkg / "energy_uj").write_text("100000")  # wrapped: 900000 -> 1000000 -> 100000
    profiler.stop()
    out = profiler.collect(_time(calls=4))
    assert out.measures["cpu_energy"].samples == (0.05,)  # 200000 uJ over 4 calls
    assert out.meta["sources"] == ["rapl"] and "pip install calibrax[gpu]" in out.unavailable["gpu_energy"]
    assert counter_delta(10, 30, None) == 20
    with pytest.raises(ValueError, match="range is unknown"):
        counter_delta(30, 10, None)


def test_rapl_readable_only_by_root_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _rapl(tmp_path, "intel-rapl:0", 1)

    def denied(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "energy_uj":
            raise PermissionError("Permission denied")
        return original(self, *args, **kwargs)

    original = Path.read_text
    monkeypatch.setattr(Path, "read_text", denied)
    zones, reason = rapl_zones(tmp_path)
    assert zones == [] and "only by root" in str(reason)
    assert rapl_zones(tmp_path / "missing")[1] is not None


def test_carbon_is_energy_times_intensity_times_pue() -> None:
    assert grams_co2e(3.6e6) == 475.0 and grams_co2e(3.6e6, 100.0, 1.5) == 150.0
    with pytest.raises(ValueError):
        grams_co2e(1.0, pue=0.5)
    ctx = ProfileContext(options=ProfilingOptions(carbon_intensity=200.0, pue=1.2))
    energy = {"energy": MeasureResult(measure_for("energy"), (36.0,), meta={"sources": ["nvml"]})}
    out = CarbonProfiler(ctx).collect(energy)
    assert out.measures["carbon"].samples[0] == pytest.approx(36.0 / 3.6e6 * 200.0 * 1.2)
    assert out.measures["carbon"].meta["intensity_g_per_kwh"] == 200.0 and out.measures["carbon"].meta["pue"] == 1.2
    assert "energy is unavailable" in CarbonProfiler(ctx).collect({}).unavailable["carbon"]


def test_device_memory_from_memory_stats_and_the_preallocation_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = {"bytes_in_use": 1 << 20, "peak_bytes_in_use": 5 << 20, "bytes_limit": 60 << 30}
    monkeypatch.setattr(gpu_mod, "_memory_stats", lambda devices: {"gpu:0:H100": dict(stats)})
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    out = _run(MemoryProfiler(ProfileContext()), _time())
    assert out.measures["device_peak_memory"].samples == (float(5 << 20),)
    assert out.measures["device_memory_in_use"].samples == (float(1 << 20),)
    assert out.meta["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and out.meta["preallocates"] is False
    monkeypatch.setattr(gpu_mod, "_memory_stats", lambda devices: {"gpu:0:H100": {"bytes_in_use": 1}})
    partial = _run(MemoryProfiler(ProfileContext()), _time())
    assert "peak_bytes_in_use" in partial.unavailable["device_peak_memory"]
    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE")
    assert preallocation()["preallocates"] is True


def test_without_nvml_or_rapl_a_real_run_reports_unavailable_measures(use_nvml: Any, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    use_nvml(None)
    monkeypatch.setattr(energy_mod, "RAPL_ROOT", tmp_path)
    monkeypatch.setattr(gpu_mod, "_memory_stats", lambda devices: {"cpu:0:cpu": None})  # as on JAX's CPU backend
    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    names = ("memory", "gpu", "energy", "carbon")
    measure_profiled(Workload(lambda: 1), FAST, ProfileContext(options=ProfilingOptions(profilers=names)),
                     into=into, meta=meta)
    assert set(into) == {"time"}
    assert {"device_peak_memory", "gpu_power", "energy", "carbon"} <= set(meta["unavailable"])
    assert isinstance(into["time"].measure, Measure)
