"""Several devices: totals and per-device FLOPs, memory of every device, NVML matched by UUID.

The sharded cases run in a child process that sets ``--xla_force_host_platform_device_count=4``
before JAX starts (this process's JAX has already started with one CPU device).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from calibrax.core import MeasureResult, Workload, measure_for
from calibrax.profiling import ProfileContext, _nvml
from calibrax.profiling import gpu as gpu_mod
from calibrax.profiling.energy import EnergyProfiler
from calibrax.profiling.gpu import GpuProfiler, MemoryProfiler

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import json
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from calibrax.core import BenchmarkSpec, Workload
    from calibrax.profiling import ProfilingOptions, TimingProtocol, cost_summary
    from calibrax.profiling.flops import executable_devices
    from calibrax.runner.execute import run_case

    n = 256
    mesh = Mesh(np.array(jax.devices()), ("x",))
    a = jax.device_put(jnp.ones((n, n)), NamedSharding(mesh, P("x", None)))
    b = jax.device_put(jnp.ones((n, n)), NamedSharding(mesh, P()))
    mm = jax.jit(jnp.matmul)
    compiled = mm.lower(a, b).compile()
    single = jax.jit(jnp.matmul).lower(jnp.ones((n, n)), jnp.ones((n, n))).compile()
    opts = ProfilingOptions(profilers=("flops", "roofline", "memory"), peak_flops={"fp32": 1e12}, bandwidth=1e11)
    fast = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)
    case = run_case(BenchmarkSpec("sharded", lambda: Workload(mm, args=(a, b))), {}, fast, opts)
    print(json.dumps({
        "devices": len(jax.devices()),
        "executable_devices": [d.id for d in executable_devices(compiled)],
        "summary": {k: cost_summary(compiled)[k] for k in ("flops", "flops_per_device", "partitions")},
        "single": {k: cost_summary(single)[k] for k in ("flops", "partitions")},
        "status": case.status.value, "error": case.error,
        "flops": case.measures["flops"].samples, "flops_meta": case.measures["flops"].meta,
        "bytes_meta": case.measures["bytes_accessed"].meta,
        "efficiency_meta": case.measures["roofline_efficiency"].meta,
        "unavailable": dict(case.unavailable),
        "memory_meta": case.meta.get("profiling", {}).get("memory", {}),
    }, default=str))
""")


@pytest.fixture(scope="module")
def four_devices() -> dict[str, Any]:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_4_device_sharded_matmul_stores_the_total_and_the_per_device_flops(four_devices: dict[str, Any]) -> None:
    n = 256
    got = four_devices
    assert got["devices"] == 4 and got["executable_devices"] == [0, 1, 2, 3]
    assert got["summary"] == {"flops": 2.0 * n**3, "flops_per_device": 2.0 * n**3 / 4, "partitions": 4}
    assert got["single"] == {"flops": 2.0 * n**3, "partitions": 1}  # one device: nothing multiplied
    assert got["status"] == "ok", got["error"]
    assert got["flops"] == [2.0 * n**3]
    meta = got["flops_meta"]
    assert meta["per_device"] == 2.0 * n**3 / 4 and meta["partitions"] == 4 and meta["basis"] == "modelled"
    assert "num_partitions=4" in meta["partitions_source"]
    assert got["bytes_meta"]["partitions"] == 4


def test_the_roofline_of_a_sharded_case_is_judged_against_every_device(four_devices: dict[str, Any]) -> None:
    meta = four_devices["efficiency_meta"]
    assert meta["devices"] == 4 and meta["peak_dtype"] == "fp32"
    assert meta["attainable_flops"] == pytest.approx(4 * meta["attainable_flops_per_device"])


def test_cpu_devices_have_no_memory_stats_and_say_so_for_all_four(four_devices: dict[str, Any]) -> None:
    reason = four_devices["unavailable"]["device_peak_memory"]
    assert "report no memory stats" in reason and all(f"cpu:{i}:" in reason for i in range(4))
    assert len(four_devices["memory_meta"]["devices"]) == 4


def _device(i: int, stats: dict[str, int] | None = None, platform: str = "gpu") -> Any:
    return SimpleNamespace(platform=platform, id=i, local_hardware_id=i, device_kind="H100",
                           memory_stats=lambda: stats)


def test_memory_is_read_on_every_device_the_outputs_live_on() -> None:
    devices = [_device(i, {"peak_bytes_in_use": (i + 1) << 20, "bytes_in_use": 1 << 20, "bytes_limit": 80 << 30})
               for i in range(2)] + [_device(2, None)]
    sharding = SimpleNamespace(device_set=list(devices))
    profiler = MemoryProfiler(ProfileContext())
    profiler.compiled(SimpleNamespace(input_shardings=((sharding,), {}), output_shardings=sharding))
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    out = profiler.collect({})
    peak = out.measures["device_peak_memory"]
    assert peak.samples == (float(2 << 20),) and peak.meta["sum"] == float(3 << 20)
    assert peak.meta["aggregate"] == "max over devices" and peak.meta["basis"] == "measured"
    assert out.meta["peak_sum"] == float(3 << 20) and len(out.meta["per_device"]) == 2
    assert out.meta["devices_without_stats"] == ["gpu:2:H100"]
    assert out.measures["device_memory_in_use"].meta["sum"] == float(2 << 20)


def test_memory_of_a_plain_callable_is_read_on_the_default_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_mod, "_default_devices", lambda: [_device(0, {"peak_bytes_in_use": 7})])
    profiler = MemoryProfiler(ProfileContext())
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    out = profiler.collect({})
    assert out.measures["device_peak_memory"].samples == (7.0,)
    assert "bytes_in_use" in out.unavailable["device_memory_in_use"]


class FakeNVMLError(Exception):
    pass


class MultiNvml:
    """Four GPUs in PCI order; ``step`` mJ per energy read per GPU; optional instant power."""

    NVMLError = FakeNVMLError
    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0

    def __init__(self, *, step: int = 1000, instant: bool = False, count: int = 4) -> None:
        self.step, self.count = step, count
        self._energy = {f"gpu{i}": itertools.count(1_000_000, step) for i in range(count)}
        if instant:
            self.NVML_FI_DEV_POWER_INSTANT = 186

    def nvmlInit(self) -> None:
        return None

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        if index >= self.count:
            raise FakeNVMLError("Invalid Argument")
        return f"gpu{index}"

    def nvmlDeviceGetUUID(self, h: str) -> str:
        return f"GPU-{h[3:]}abc-1234"

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        for i in range(self.count):
            if self.nvmlDeviceGetUUID(f"gpu{i}") == uuid:
                return f"gpu{i}"
        raise FakeNVMLError("Not Found")

    def nvmlDeviceGetIndex(self, h: str) -> int:
        return int(h[3:])

    def nvmlDeviceGetTotalEnergyConsumption(self, h: str) -> int:
        return next(self._energy[h])

    def nvmlDeviceGetFieldValues(self, h: str, ids: list[int]) -> list[Any]:
        return [SimpleNamespace(nvmlReturn=0, value=SimpleNamespace(uiVal=400_000 + 10_000 * int(h[3:])))]

    def nvmlDeviceGetPowerUsage(self, h: str) -> int:
        return 300_000

    def nvmlDeviceGetUtilizationRates(self, h: str) -> Any:
        return SimpleNamespace(gpu=50 + 10 * int(h[3:]), memory=0)

    def nvmlDeviceGetMemoryInfo(self, h: str) -> Any:
        return SimpleNamespace(used=1 << 30, total=80 << 30)

    def nvmlDeviceGetClockInfo(self, h: str, kind: int) -> int:
        return 1900 + int(h[3:]) if kind == self.NVML_CLOCK_SM else 2600

    def nvmlDeviceGetTemperature(self, h: str, sensor: int) -> int:
        return 60 + int(h[3:])

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h: str) -> int:
        return 0


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(fake: Any, jax_devices: list[Any]) -> Any:
        monkeypatch.setattr(_nvml, "_import", lambda: fake)
        monkeypatch.setattr(_nvml, "_initialised", False)
        monkeypatch.setattr(_nvml, "_jax_devices", lambda: jax_devices)
        return fake

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    return install


@pytest.mark.parametrize(("visible", "expected"), [
    ("GPU-2abc-1234,GPU-3abc-1234", ["GPU-2abc-1234", "GPU-3abc-1234"]),  # UUIDs
    ("GPU-3abc,GPU-1abc", ["GPU-3abc-1234", "GPU-1abc-1234"]),  # unique prefixes, not in index order
    ("3,1", ["GPU-3abc-1234", "GPU-1abc-1234"]),  # indices: not "the first index" for every device
    (None, ["GPU-0abc-1234", "GPU-1abc-1234"]),
])
def test_nvml_handles_are_matched_to_jax_devices_by_uuid(nvml: Any, monkeypatch: pytest.MonkeyPatch,
                                                         visible: str | None, expected: list[str]) -> None:
    nvml(MultiNvml(), [])
    if visible is not None:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    handles, reason = _nvml.open_devices([_device(0), _device(1)])
    assert reason is None and [h.uuid for h in handles] == expected
    assert [h.jax_id for h in handles] == [0, 1]
    assert [h.index for h in handles] == [int(u[4]) for u in expected]


def test_unmatchable_devices_are_unavailable_with_the_reason(nvml: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    nvml(MultiNvml(), [])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-9zzz")
    handles, reason = _nvml.open_devices([_device(0)])
    assert handles == [] and "no NVML handle for JAX device 0" in str(reason)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    handles, reason = _nvml.open_devices([_device(0), _device(1)])
    assert handles == [] and "no entry in CUDA_VISIBLE_DEVICES" in str(reason)
    handles, reason = _nvml.open_devices([_device(0, platform="cpu")])
    assert handles == [] and "JAX cpu devices" in str(reason)
    assert _nvml.open_device()[0] is None  # JAX's default device here is no GPU either


def test_a_device_that_reports_its_uuid_is_matched_by_it(nvml: Any) -> None:
    nvml(MultiNvml(), [])
    device = SimpleNamespace(platform="gpu", id=0, uuid="GPU-2abc-1234")
    handles, _ = _nvml.open_devices([device])
    assert handles[0].index == 2 and handles[0].matched_by == "the JAX device's uuid"


def _time(calls: int) -> dict[str, MeasureResult]:
    return {"time": MeasureResult(measure_for("time"), (1e-3,), meta={"calls_per_round": calls, "rounds": 1})}


def _sharded_over(devices: list[Any]) -> Any:
    sharding = SimpleNamespace(device_set=list(devices))
    return SimpleNamespace(input_shardings=((sharding,), {}), output_shardings=sharding)


def test_energy_is_summed_over_the_gpus_used_and_kept_per_device(nvml: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    nvml(MultiNvml(step=1000), [])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1abc-1234,GPU-3abc-1234")
    profiler = EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.0, baseline_seconds=0.02)
    profiler.compiled(_sharded_over([_device(0), _device(1)]))
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    out = profiler.collect(_time(10))
    assert out.measures["gpu_energy"].samples == (0.2,)  # 1 J per GPU over 10 calls, two GPUs
    assert out.meta["per_device"] == {"GPU-1abc-1234": 0.1, "GPU-3abc-1234": 0.1}
    gross, marginal = out.measures["energy"], out.measures["energy_marginal"]
    assert gross.meta["kind"] == "gross" and marginal.meta["kind"] == "marginal"
    assert 0 < marginal.samples[0] < gross.samples[0]  # the idle draw over the region is taken off
    idle_w = out.meta["gpu_idle_watts"]  # 2 J over the ~0.02 s baseline
    assert idle_w == pytest.approx(2.0 / out.meta["baseline_seconds"])
    assert marginal.samples[0] == pytest.approx(0.2 - idle_w * out.meta["region_seconds"] / 10)


def test_gpu_telemetry_aggregates_every_gpu_and_prefers_instant_power(nvml: Any) -> None:
    nvml(MultiNvml(instant=True), [])
    profiler = GpuProfiler(ProfileContext(), interval=0.001)
    profiler.compiled(_sharded_over([_device(0), _device(1)]))
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    out = profiler.collect(_time(1))
    power = out.measures["gpu_power"]
    assert power.samples[0] == pytest.approx(810.0)  # 400 W + 410 W instantaneous
    assert power.meta["power_source"] == ["NVML_FI_DEV_POWER_INSTANT"] and power.meta["gpus"] == 2
    assert out.measures["gpu_utilization"].samples[0] == 55.0  # the mean of 50 % and 60 %
    assert out.measures["sm_clock"].samples[0] == 1900 and out.measures["gpu_temperature"].samples[0] == 61
    assert out.measures["gpu_memory_used"].samples[0] == 2 << 30
    assert out.meta["per_device"]["GPU-1abc-1234"]["gpu_power"] == pytest.approx(410.0)


def test_without_the_instant_field_power_is_the_averaged_reading(nvml: Any) -> None:
    nvml(MultiNvml(instant=False), [_device(0)])
    out = GpuProfiler(ProfileContext(), interval=0.001)
    out.start(Workload(lambda: 1))
    out.stop()
    power = out.collect(_time(1)).measures["gpu_power"]
    assert power.samples[0] == pytest.approx(300.0) and "average" in power.meta["power_source"][0]


def test_an_unsupported_instant_power_field_falls_back_to_the_average(nvml: Any) -> None:
    fake = MultiNvml(instant=True)
    fake.nvmlDeviceGetFieldValues = lambda h, ids: [SimpleNamespace(nvmlReturn=3, value=None)]  # type: ignore[method-assign]
    nvml(fake, [_device(0)])
    handles, _ = _nvml.open_devices()
    assert "not supported" in str(gpu_mod._power_instant(handles[0])[1])
    profiler = GpuProfiler(ProfileContext(), interval=0.001)
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    power = profiler.collect(_time(1)).measures["gpu_power"]
    assert power.samples[0] == pytest.approx(300.0) and "average" in power.meta["power_source"][0]
