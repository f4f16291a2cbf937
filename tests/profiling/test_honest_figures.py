"""Per-dtype peaks, custom calls, honest energy and the comparability fingerprint."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import pytest
from click.testing import CliRunner

from calibrax.core import ConfigError, MeasureResult, Workload, measure_for
from calibrax.core.models import HardwareInfo
from calibrax.profiling import ProfileContext, ProfilingOptions, _nvml, cost_summary
from calibrax.profiling import calibrate as calibrate_mod
from calibrax.profiling._hlo import HloFacts, dtype_key, hlo_facts
from calibrax.profiling.calibrate import Calibration, load_calibration, measure_peaks
from calibrax.profiling.energy import EnergyProfiler, RaplZone, rapl_selection, rapl_zones
from calibrax.profiling.flops import FlopsProfiler
from calibrax.profiling.roofline import RooflineProfiler, pick_peak

PEAKS = {"bf16": 989e12, "fp16": 989e12, "tf32": 495e12, "fp32": 67e12, "fp64": 67e12}


def _compiled(fn: Any, *args: Any) -> Any:
    return jax.jit(fn).lower(*args).compile()


def _roofline(executable: Any, peaks: Any, flops: float = 1e9, nbytes: float = 1e6, time: float = 1e-3,
              partitions: int = 1) -> Any:
    ctx = ProfileContext(options=ProfilingOptions(peak_flops=peaks, bandwidth=1e12, peak_source="test"))
    profiler = RooflineProfiler(ctx)
    if executable is not None:
        profiler.compiled(executable)
    measures = {
        "flops": MeasureResult(measure_for("flops"), (flops,), meta={"source": "xla", "partitions": partitions}),
        "bytes_accessed": MeasureResult(measure_for("bytes_accessed"), (nbytes,)),
        "time": MeasureResult(measure_for("time"), (time,)),
    }
    return profiler.collect(measures)


# --- per-dtype peaks ---------------------------------------------------------------------------

def test_a_bf16_dot_and_an_f32_dot_pick_different_peaks() -> None:
    x16, x32 = jnp.ones((64, 64), jnp.bfloat16), jnp.ones((64, 64), jnp.float32)
    # XLA:CPU keeps a bf16 dot with an f32 result in bf16 (a bf16 -> bf16 dot it computes in f32).
    bf16 = _compiled(lambda a, b: jnp.matmul(a, b, preferred_element_type=jnp.float32), x16, x16)
    f32 = _compiled(lambda a, b: jnp.matmul(a, b, precision="highest"), x32, x32)
    peaks = {"bf16": 1e15, "fp32": 1e13}
    got16, got32 = _roofline(bf16, peaks).meta, _roofline(f32, peaks).meta
    assert (got16["peak_dtype"], got16["peak_flops"]) == ("bf16", 1e15)
    assert (got32["peak_dtype"], got32["peak_flops"]) == ("fp32", 1e13)
    assert got16["dot_flops_by_dtype"] == {"bf16": 2.0 * 64**3}
    assert got16["peak_flops_by_dtype"] == peaks and got16["peak_source"] == "test"


def test_an_f32_dot_at_default_precision_uses_tf32_where_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    x = jnp.ones((32, 32))
    default = _compiled(jnp.matmul, x, x)
    assert _roofline(default, PEAKS).meta["peak_dtype"] == "tf32"
    assert _roofline(default, {"fp32": 1e13}).meta["peak_dtype"] == "fp32"
    highest = _compiled(lambda a, b: jnp.matmul(a, b, precision="highest"), x, x)
    assert _roofline(highest, PEAKS).meta["peak_dtype"] == "fp32"
    monkeypatch.setenv("NVIDIA_TF32_OVERRIDE", "0")
    assert _roofline(default, PEAKS).meta["peak_dtype"] == "fp32"


GPU_HLO = """HloModule jit_step, entry_computation_layout={(bf16[128,256]{1,0}, bf16[256,64]{1,0})->f32[128,64]{1,0}}, num_partitions=2

ENTRY %main (a: bf16[128,256], b: bf16[256,64], c: f32[128,256], d: f32[256,64]) -> f32[128,64] {
  %a = bf16[128,256]{1,0} parameter(0)
  %b = bf16[256,64]{1,0} parameter(1)
  %c = f32[128,256]{1,0} parameter(2)
  %d = f32[256,64]{1,0} parameter(3)
  %gemm = (bf16[128,64]{1,0}, s8[4194304]{0}) custom-call(%a, %b), custom_call_target="__cublas$gemm", backend_config={"gemm_backend_config":{"dot_dimension_numbers":{"lhs_contracting_dimensions":["1"],"rhs_contracting_dimensions":["0"]}}}
  %dot.2 = f32[128,64]{1,0} dot(%c, %d), lhs_contracting_dims={1}, rhs_contracting_dims={0}, operand_precision={highest,highest}
  ROOT %add = f32[128,64]{1,0} add(%dot.2, %dot.2)
}
"""


def test_hlo_facts_read_cublas_gemms_partitions_and_mixed_dtypes() -> None:
    facts = hlo_facts(GPU_HLO)
    assert facts.partitions == 2 and facts.uncounted == ()  # cuBLAS gemms are counted by XLA:GPU
    flops = 2.0 * 128 * 64 * 256
    assert facts.compute == {"bf16": flops, "fp32": flops} and facts.tf32_eligible == 0
    choice = pick_peak(PEAKS, facts)
    assert choice.dtype == "mixed" and choice.mix == {"bf16": 0.5, "fp32": 0.5}
    assert choice.peak == pytest.approx(2 / (1 / 989e12 + 1 / 67e12))
    assert pick_peak({"bf16": 1.0}, facts).peak is None and "fp32" in pick_peak({"bf16": 1.0}, facts).rule


@pytest.mark.parametrize(("peaks", "facts", "dtype", "words"), [
    (None, HloFacts(), None, "calibrax hardware --calibrate"),
    (1e12, HloFacts(compute={"bf16": 1.0}), "any", "every dtype"),
    (PEAKS, None, None, "not a jitted function"),
    (PEAKS, HloFacts(output_dtypes=("fp32",)), "fp32", "vector (fp32) roof"),
    (PEAKS, HloFacts(output_dtypes=("fp64",)), "fp64", "vector (fp64) roof"),
    ({"bf16": 1.0}, HloFacts(output_dtypes=("bf16",)), None, "no dot or convolution"),
    (PEAKS, HloFacts(compute={"fp8": 1.0}), None, "declares no fp8 peak"),
    (PEAKS, HloFacts(unknown_compute=("s32",)), None, "s32"),
    (PEAKS, HloFacts(compute={"bf16": 1.0, "fp32": 1.0}, shapeless_compute=1), None, "could not be read"),
])
def test_the_roof_is_unavailable_rather_than_wrong(peaks: Any, facts: HloFacts | None, dtype: str | None,
                                                   words: str) -> None:
    choice = pick_peak(ProfilingOptions(peak_flops=peaks).peaks, facts)
    assert choice.dtype == dtype and words in choice.rule
    assert (choice.peak is None) == (dtype is None)


def test_an_unknown_dtype_leaves_the_efficiency_unavailable_with_the_reason() -> None:
    x = jnp.ones((16, 16), jnp.bfloat16)
    out = _roofline(_compiled(lambda a, b: jnp.matmul(a, b, preferred_element_type=jnp.float32), x, x),
                    {"fp32": 1e12})
    assert "roofline_efficiency" not in out.measures
    assert "bf16" in out.unavailable["roofline_efficiency"] and "arithmetic_intensity" in out.measures


def test_peak_options_accept_a_scalar_or_a_mapping_and_round_trip_as_json() -> None:
    scalar = ProfilingOptions(peak_flops=2e12, peak_source="hardware target 'x'")
    assert scalar.peaks == {"any": 2e12} and "every dtype" in str(scalar.peak_source)
    mapping = ProfilingOptions(peak_flops={"BFloat16": 1e15, "float32": "6.7e13", "TF32": 4.95e14})
    assert mapping.peaks == {"bf16": 1e15, "fp32": 6.7e13, "tf32": 4.95e14}
    for opts in (scalar, mapping, ProfilingOptions()):
        assert ProfilingOptions.from_dict(json.loads(json.dumps(opts.to_dict()))) == opts
    assert ProfilingOptions(peak_flops={}).peak_flops is None


@pytest.mark.parametrize(("peaks", "words"), [
    ({"bf17": 1.0}, "unknown dtype 'bf17'"), ({"fp32": -1.0}, "positive number"),
    ({"fp32": "fast"}, "positive number"), ({"fp32": True}, "positive number"), (0.0, "positive number"),
])
def test_bad_peaks_stop_with_a_message_that_names_the_key(peaks: Any, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ProfilingOptions(peak_flops=peaks)


def test_dtype_keys_of_hlo_element_types() -> None:
    assert [dtype_key(t) for t in ("bf16", "f16", "f32", "f64", "s8", "f8e5m2", "c64")] == [
        "bf16", "fp16", "fp32", "fp64", "int8", "fp8", None]


# --- custom calls --------------------------------------------------------------------------------

def _flops_of(executable: Any, declared: float | None = None) -> Any:
    profiler = FlopsProfiler(ProfileContext(analytic_flops=declared))
    profiler.compiled(executable)
    return profiler.collect({})


def test_a_custom_call_makes_flops_unavailable_never_zero() -> None:
    x = jnp.ones((8, 8))
    exe = _compiled(lambda a: jnp.linalg.cholesky(a @ a.T + 8 * jnp.eye(8)), x)
    assert cost_summary(exe)["uncounted_custom_calls"] == ["lapack_spotrf_ffi"]
    out = _flops_of(exe)
    assert "flops" not in out.measures and "transcendentals" not in out.measures
    assert "lapack_spotrf_ffi" in out.unavailable["flops"] and "declare_flops" in out.unavailable["flops"]
    assert out.measures["bytes_accessed"].meta["uncounted_custom_calls"] == ["lapack_spotrf_ffi"]
    declared = _flops_of(exe, declared=1234.0)
    assert declared.measures["flops"].samples == (1234.0,) and "flops" not in declared.unavailable
    assert declared.measures["flops"].meta["xla_flops"] is None  # XLA's count is incomplete


class _FakeExecutable:
    """An executable known only by its HLO text and cost analysis."""

    def __init__(self, text: str, cost: dict[str, float]) -> None:
        self.text, self.cost = text, cost

    def as_text(self) -> str:
        return self.text

    def cost_analysis(self) -> dict[str, float]:
        return self.cost

    def memory_analysis(self) -> None:
        return None


PALLAS_HLO = """HloModule jit_kernel, entry_computation_layout={(f32[1024]{0})->f32[1024]{0}}

ENTRY %main (x: f32[1024]) -> f32[1024] {
  %x = f32[1024]{0} parameter(0)
  ROOT %k = f32[1024]{0} custom-call(%x), custom_call_target="tpu_custom_call", backend_config="{\\"custom_call_config\\": {\\"body\\": \\"AA==\\", \\"cost_estimate\\": {\\"flops\\": 5000, \\"transcendentals\\": 10, \\"bytes_accessed\\": 8192}}}"
}
"""


def test_a_pallas_cost_estimate_fills_in_what_xla_cannot_count() -> None:
    out = _flops_of(_FakeExecutable(PALLAS_HLO, {"flops": 100.0, "bytes accessed": 8192.0}))
    flops = out.measures["flops"]
    assert flops.samples == (5100.0,) and flops.meta["source"] == "xla+cost_estimate"
    assert flops.meta["cost_estimate"] == 5000.0 and out.measures["transcendentals"].samples == (10.0,)
    no_estimate = PALLAS_HLO.replace("cost_estimate", "other")
    assert "tpu_custom_call" in _flops_of(_FakeExecutable(no_estimate, {"flops": 1.0})).unavailable["flops"]


def test_an_executable_without_hlo_text_assumes_one_device_and_says_so() -> None:
    class NoText(_FakeExecutable):
        def as_text(self) -> str:
            raise RuntimeError("cannot print")

    summary = cost_summary(NoText("", {"flops": 10.0}))
    assert summary["flops"] == 10.0 and summary["partitions"] == 1 and "assumed" in summary["partitions_source"]
    assert summary["loops_counted_once"] is None


# --- energy ----------------------------------------------------------------------------------------

def _zone(root: Path, folder: str, name: str, energy: int) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "energy_uj").write_text(str(energy))
    (path / "name").write_text(name)
    (path / "max_energy_range_uj").write_text(str(1 << 40))
    return path


def test_psys_is_used_alone_so_packages_are_not_counted_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nvml, "_import", lambda: (_ for _ in ()).throw(ImportError("no pynvml")))
    pkg = _zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000)
    psys = _zone(tmp_path, "intel-rapl:1", "psys", 5_000_000)
    zones, _ = rapl_zones(tmp_path)
    chosen, rule = rapl_selection(zones)
    assert [z.name for z in chosen] == ["psys"] and "psys alone" in rule
    profiler = EnergyProfiler(ProfileContext(), rapl_root=tmp_path, min_region=0.0, baseline_seconds=0.0)
    profiler.start(Workload(lambda: 1))
    pkg.joinpath("energy_uj").write_text("1600000")
    psys.joinpath("energy_uj").write_text("6000000")  # 1 J over the platform, the package's 0.6 J inside it
    profiler.stop()
    t = {"time": MeasureResult(measure_for("time"), (1e-3,), meta={"calls_per_round": 10, "rounds": 1})}
    out = profiler.collect(t)
    assert out.measures["cpu_energy"].samples == (0.1,) and out.meta["rapl_zones"] == ["psys"]
    assert "no idle baseline" in out.unavailable["energy_marginal"]
    packages = [RaplZone("package-0", Path("a"), None), RaplZone("package-1", Path("b"), None)]
    assert rapl_selection(packages) == (packages, "sum of the top-level zones (packages; no psys zone here)")


class _StuckNvml:
    """An NVML whose energy counter never moves (a GPU that reports a frozen counter)."""

    NVMLError = RuntimeError

    def nvmlInit(self) -> None:
        return None

    def nvmlDeviceGetHandleByIndex(self, i: int) -> str:
        return "gpu0"

    def nvmlDeviceGetUUID(self, h: str) -> str:
        return "GPU-0"

    def nvmlDeviceGetTotalEnergyConsumption(self, h: str) -> int:
        return 42


def test_a_region_where_no_counter_moved_is_unavailable_never_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nvml, "_import", lambda: _StuckNvml())
    monkeypatch.setattr(_nvml, "_initialised", False)
    monkeypatch.setattr(_nvml, "_jax_devices", lambda: [SimpleNamespace(platform="gpu", id=0, local_hardware_id=0)])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    profiler = EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.01, baseline_seconds=0.01)
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    out = profiler.collect({})
    assert "energy" not in out.measures and "gpu_energy" not in out.measures
    assert "did not move" in out.unavailable["gpu_energy"] and out.unavailable["energy_marginal"]


def test_the_marginal_energy_needs_a_resolved_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    class Ticking(_StuckNvml):
        def __init__(self) -> None:
            self.reads = itertools.count()

        def nvmlDeviceGetTotalEnergyConsumption(self, h: str) -> int:
            n = next(self.reads)
            return 1000 if n < 2 else 1000 + 500 * n  # frozen over the baseline, moving after

    monkeypatch.setattr(_nvml, "_import", lambda: Ticking())
    monkeypatch.setattr(_nvml, "_initialised", False)
    monkeypatch.setattr(_nvml, "_jax_devices", lambda: [SimpleNamespace(platform="gpu", id=0, local_hardware_id=0)])
    profiler = EnergyProfiler(ProfileContext(), rapl_root=Path("/nonexistent"), min_region=0.0, baseline_seconds=0.01)
    profiler.start(Workload(lambda: 1))
    profiler.stop()
    t = {"time": MeasureResult(measure_for("time"), (1e-3,), meta={"calls_per_round": 1, "rounds": 1})}
    out = profiler.collect(t)
    assert out.measures["energy"].samples == (0.5,)
    assert "baseline of the gpu counters did not resolve" in out.unavailable["energy_marginal"]


# --- fingerprint -------------------------------------------------------------------------------------

def _hw(backend: str = "cpu", versions: dict[str, str] | None = None, **extra: Any) -> HardwareInfo:
    return HardwareInfo(backend, "H100" if backend == "gpu" else "cpu", 1, "EPYC", 2, 1 << 30, "Linux", "3.11.7",
                        versions=versions if versions is not None else {"jax": "0.10.2", "jaxlib": "0.10.2"},
                        extra=extra)


def test_two_infos_differing_only_in_xla_flags_get_different_fingerprints() -> None:
    base = _hw(xla_flags="")
    assert base.fingerprint != _hw(xla_flags="--xla_cpu_use_thunk_runtime=false").fingerprint
    assert _hw(xla_flags="--a=1 --b=2").fingerprint == _hw(xla_flags="--b=2  --a=1").fingerprint  # order-free
    assert base.fingerprint != _hw(versions={"jax": "0.10.3", "jaxlib": "0.10.2"}, xla_flags="").fingerprint
    assert base.fingerprint == _hw(versions={"jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "9"}, xla_flags="").fingerprint


def test_memory_pool_settings_change_the_fingerprint_on_gpus_only() -> None:
    default = _hw("gpu", env={})
    assert default.fingerprint == _hw("gpu", env={"XLA_PYTHON_CLIENT_PREALLOCATE": "true"}).fingerprint
    assert default.fingerprint != _hw("gpu", env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}).fingerprint
    assert default.fingerprint != _hw("gpu", env={"XLA_PYTHON_CLIENT_MEM_FRACTION": ".5"}).fingerprint
    assert _hw(env={}).fingerprint == _hw(env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}).fingerprint


def test_the_machine_fingerprint_records_versions_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from calibrax.profiling.hardware import device_info, hardware_info, host_info

    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.5")
    info = hardware_info(host_info(), device_info())
    assert {"jax", "jaxlib"} <= set(info.versions) and "xla_flags" in info.extra
    assert info.extra["env"]["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.5"


# --- calibration ---------------------------------------------------------------------------------------

def test_an_old_single_peak_calibration_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    old = {"peak_flops": 2e11, "bandwidth": 5e10, "matmul_n": 2048, "triad_elements": 1 << 25,
           "measured_at": "2026-01-01T00:00:00+00:00", "device_kind": "cpu"}
    path.write_text(json.dumps({"abc": old, "bad": {"peak_flops": "x"}}))
    cal = load_calibration("abc", path)
    assert cal is not None and cal.peak_flops == {"fp32": 2e11} and cal.timer == "wall"
    assert load_calibration("bad", path) is None
    assert ProfilingOptions(peak_flops=cal.peak_flops).peaks == {"fp32": 2e11}


def test_calibration_uses_the_device_timer_and_falls_back_to_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = measure_peaks(matmul_n=64, triad_elements=1 << 12, repeats=2)
    assert set(cal.peak_flops) == {"fp32", "bf16"} and cal.timer in ("device", "wall")
    assert (cal.timer == "wall") == (cal.timer_note is not None)

    def broken() -> Any:
        return (lambda fn, repeats: (_ for _ in ()).throw(RuntimeError("no trace"))), None

    monkeypatch.setattr(calibrate_mod, "_device_timer", broken)
    fallback = measure_peaks(matmul_n=64, triad_elements=1 << 12, repeats=1)
    assert fallback.timer == "wall" and "no trace" in str(fallback.timer_note)
    with pytest.raises(ValueError, match="at least 1"):
        measure_peaks(matmul_n=0)
    with pytest.raises(ValueError, match="timer"):
        measure_peaks(timer="cupti")


def test_the_hardware_command_refuses_a_bad_size_and_shows_per_dtype_peaks(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from calibrax.cli.main import cli

    monkeypatch.setenv("CALIBRAX_CACHE_DIR", str(tmp_path))
    bad = CliRunner().invoke(cli, ["hardware", "--calibrate", "--matmul-n", "0"])
    assert bad.exit_code == 2 and "--matmul-n" in bad.output
    monkeypatch.setattr(calibrate_mod, "measure_peaks", lambda *a, **k: Calibration(
        {"fp32": 2e11, "bf16": 1e11}, 5e10, 8, 16, "now", "cpu", "wall", "the device timer failed (x)"))
    table = CliRunner().invoke(cli, ["hardware", "--calibrate"])
    assert table.exit_code == 0, table.output
    assert "fp32 200.0 GFLOP/s, bf16 100.0 GFLOP/s" in table.output and "wall timer" in table.output


def test_a_backend_without_cost_analysis_leaves_flops_unavailable_not_zero() -> None:
    out = _flops_of(_FakeExecutable("HloModule m\n", {}))
    assert "flops" not in out.measures and "no cost analysis" in out.unavailable["flops"]
