from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from omegaconf import OmegaConf

from calibrax.cli.main import cli
from calibrax.core import ConfigError
from calibrax.profiling import ProfilingOptions
from calibrax.profiling.calibrate import Calibration, load_calibration, save_calibration
from calibrax.profiling.hardware import device_info, hardware_info, host_info
from calibrax.runner.config import ProfileConfig, load_config
from calibrax.runner.profilers import check_profilers, profiling_options

CONF = Path(__file__).resolve().parents[2] / "conf" / "hardware"
TARGETS = {  # name -> (dense bf16, fp32 peak FLOP/s or None where REFERENCE.md gives none, bandwidth B/s)
    "h100_sxm": (989e12, 67e12, 3.35e12), "h100_pcie": (756e12, None, 2.0e12), "h200": (989e12, None, 4.8e12),
    "a100_80gb": (312e12, 19.5e12, 2.039e12), "a100_40gb": (312e12, 19.5e12, 1.555e12),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_named_gpu_targets_declare_their_peaks_per_dtype(name: str) -> None:
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml"))
    assert isinstance(cfg, dict)
    bf16, fp32, bandwidth = TARGETS[name]
    assert (cfg["name"], cfg["platform"], cfg["bandwidth"]) == (name, "gpu", bandwidth)
    peaks = ProfilingOptions(peak_flops=cfg["peak_flops"]).peaks
    assert set(peaks) == {"bf16", "fp16", "tf32", "fp32", "fp64"}
    assert peaks["bf16"] == bf16 and (fp32 is None or peaks["fp32"] == fp32)
    assert peaks["fp32"] < peaks["tf32"] < peaks["bf16"] == peaks["fp16"]


def test_the_fingerprint_describes_cpu_simd_caches_and_environment() -> None:
    host, device = host_info(), device_info()
    assert host["usable_cores"] >= 1 and isinstance(host["simd"], list) and isinstance(host["caches"], dict)
    assert "env" in device and device["backend"] == "cpu"
    info = hardware_info(host, device)
    assert len(info.fingerprint) == 16 and info.extra["simd"] == host["simd"]


def test_calibrate_stores_peaks_that_the_roofline_then_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALIBRAX_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["hardware", "--calibrate", "--json", "--matmul-n", "256",
                                      "--triad-elements", str(1 << 18), "--timer", "wall"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    cal = data["calibration"]
    assert set(cal["peak_flops"]) == {"fp32", "bf16"} and min(cal["peak_flops"].values()) > 1e8
    assert cal["bandwidth"] > 1e8 and cal["matmul_n"] == 256 and cal["timer"] == "wall"
    assert json.loads((tmp_path / "calibration.json").read_text())[data["fingerprint"]]["peak_flops"] == cal["peak_flops"]
    hw = hardware_info(host_info(), device_info())
    opts = profiling_options(load_config({"profile": {"profilers": ["roofline"]}, "hardware": {"name": "auto"}}), hw)
    assert opts.peak_flops == cal["peak_flops"] and "calibration" in str(opts.peak_source)
    assert opts.profilers == ("flops", "roofline")
    named = profiling_options(load_config({"hardware": {"name": "h200", "peak_flops": 9.89e14, "bandwidth": 4.8e12}}), hw)
    assert named.peak_flops == {"any": 9.89e14}
    assert named.peak_source == "hardware target 'h200' (one peak_flops for every dtype)"
    table = CliRunner().invoke(cli, ["hardware"])
    assert table.exit_code == 0 and "fingerprint" in table.output and "GFLOP/s" in table.output


def test_without_peaks_or_calibration_the_roofline_gets_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALIBRAX_CACHE_DIR", str(tmp_path))
    opts = profiling_options(load_config({"profile": {"profilers": ["all"]}}), hardware_info(host_info(), device_info()))
    assert opts.peak_flops is None and opts.bandwidth is None and opts.complexity is True
    save_calibration("abc", Calibration({"fp32": 1.0, "bf16": 3.0}, 2.0, 8, 16, "now", "cpu"), tmp_path / "c.json")
    assert load_calibration("abc", tmp_path / "c.json") == Calibration({"fp32": 1.0, "bf16": 3.0}, 2.0, 8, 16, "now", "cpu")
    assert load_calibration("other", tmp_path / "c.json") is None
    with pytest.raises(ConfigError, match="Unknown profiler"):
        check_profilers(ProfileConfig(profilers=["nope"]))


def test_hardware_command_is_documented_with_an_example() -> None:
    result = CliRunner().invoke(cli, ["hardware", "--help"])
    assert result.exit_code == 0 and "Example: calibrax hardware --calibrate" in result.output
