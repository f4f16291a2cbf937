"""The opt-in tracing profiler (a real CPU trace and its op summary) and the codecarbon backend
of the carbon profiler (for real when installed, and the error when it is not)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from calibrax.core import ConfigError, MeasureResult, Workload
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, measure_profiled, resolve_profilers
from calibrax.profiling.carbon import codecarbon_available
from calibrax.profiling.tracing import case_trace_dir, summarize_trace
from calibrax.runner.config import load_config
from calibrax.runner.profilers import check_profilers

QUICK = TimingProtocol(min_rounds=2, min_time=0.0, warmup_time=0.0)


def _measure(workload: Workload, options: ProfilingOptions) -> tuple[dict[str, MeasureResult], dict[str, Any]]:
    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    measure_profiled(workload, QUICK, ProfileContext("bench", {"n": 128}, options), into=into, meta=meta)
    return into, meta


def test_tracing_is_opt_in() -> None:
    assert "tracing" not in resolve_profilers(["all"])[0]
    assert resolve_profilers(["timing", "tracing"]) == (("tracing",), ("timing",))


def test_the_summary_counts_xla_ops_on_the_device_when_there_are_some(tmp_path: Path) -> None:
    def op(pid: int, name: str, dur: float) -> dict[str, Any]:
        return {"ph": "X", "pid": pid, "name": name, "dur": dur, "args": {"hlo_op": name, "hlo_module": "jit_f"}}

    events = [
        {"ph": "M", "pid": 1, "name": "process_name", "args": {"name": "/host:CPU"}},
        {"ph": "M", "pid": 2, "name": "process_name", "args": {"name": "/device:GPU:0"}},
        {"ph": "X", "pid": 1, "name": "PjitFunction(f)", "dur": 500.0},
        op(1, "fusion.1", 90.0),  # the host-side launch of a device op
        op(2, "fusion.1", 10.0), op(2, "fusion.1", 12.0), op(2, "dot.2", 30.0),
    ]
    path = tmp_path / "t.trace.json"
    path.write_text(json.dumps({"traceEvents": events}))
    s = summarize_trace(path, top=1)
    assert s["scope"] == "device" and s["total_us"] == 52.0 and s["events"] == 3 and s["distinct_ops"] == 2
    assert s["ops"] == [{"op": "dot.2", "module": "jit_f", "count": 1, "total_us": 30.0, "mean_us": 30.0,
                         "share": pytest.approx(30 / 52)}]


def test_a_real_cpu_trace_lists_the_xla_ops_of_the_case(tmp_path: Path) -> None:
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda a: jnp.sort(a @ a, axis=1).sum())
    into, meta = _measure(Workload(f, args=(jnp.ones((128, 128)),)), ProfilingOptions(
        profilers=("tracing",), trace_dir=str(tmp_path / "traces"), trace_calls=4))
    assert "profiler_errors" not in meta
    artifact = meta["artifacts"]["trace"]
    path = Path(artifact["path"])
    assert path.name == "perfetto_trace.json.gz" and path.is_relative_to(case_trace_dir(tmp_path / "traces", "bench", {"n": 128}))
    summary = artifact["summary"]
    ops = {o["op"]: o for o in summary["ops"]}
    assert summary["scope"] == "host" and summary["calls"] == 4 and summary["modules"] == ["jit__lambda"]
    assert any(name.startswith("sort") for name in ops) and all(o["count"] % 4 == 0 for o in ops.values())
    assert max(ops.values(), key=lambda o: o["total_us"]) == summary["ops"][0]
    assert meta["profiling"]["tracing"]["calls"] == 4
    op_time = into["traced_op_time"]
    assert op_time.measure.direction.value == "info" and op_time.samples[0] == pytest.approx(summary["total_us"] * 1e-6 / 4)


@pytest.mark.skipif(not codecarbon_available(), reason="codecarbon is not installed (pip install calibrax[carbon])")
def test_codecarbon_measures_the_carbon_of_a_case_offline() -> None:
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda a: jnp.tanh(a @ a))
    options = ProfilingOptions(profilers=resolve_profilers(["carbon"])[0], carbon_backend="codecarbon",
                               carbon_country="FRA", pue=1.2)
    into, meta = _measure(Workload(f, args=(jnp.ones((256, 256)),)), options)
    assert "profiler_errors" not in meta
    carbon = into["carbon"]
    assert carbon.measure.unit == "gCO2e" and carbon.samples[0] > 0
    info = carbon.meta
    assert info["backend"] == "codecarbon" and info["country_name"] == "France" and info["pue"] == 1.2
    assert info["region_seconds"] >= 1.0 and info["calls"] > 1 and info["energy_kwh"] > 0
    assert 20 < info["intensity_g_per_kwh"] < 200  # France's grid, not the world average of 475
    bad = ProfilingOptions(profilers=("energy", "carbon"), carbon_backend="codecarbon", carbon_country="XYZ")
    _, meta = _measure(Workload(f, args=(jnp.ones((8, 8)),)), bad)
    assert "'XYZ' is not a country codecarbon knows" in meta["profiler_errors"]["carbon"]


def test_without_codecarbon_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # import codecarbon now fails
    assert not codecarbon_available()
    options = ProfilingOptions(profilers=("energy", "carbon"), carbon_backend="codecarbon", carbon_country="FRA")
    into, meta = _measure(Workload(sum, args=([1, 2],)), options)
    assert "carbon" not in into and "pip install calibrax[carbon]" in meta["profiler_errors"]["carbon"]
    cfg = {"profile": {"profilers": ["carbon"], "carbon": {"backend": "codecarbon", "country": "FRA"}}}
    with pytest.raises(ConfigError, match=r"not installed here. Install it with: pip install calibrax\[carbon\]"):
        check_profilers(load_config(cfg).profile)


def test_the_codecarbon_backend_needs_a_country() -> None:
    cfg = {"profile": {"profilers": ["carbon"], "carbon": {"backend": "codecarbon", "country": None}}}
    with pytest.raises(ConfigError, match="needs the grid's country .* e.g. profile.carbon.country=FRA"):
        check_profilers(load_config(cfg).profile)
    check_profilers(load_config({"profile": {"profilers": ["timing"], "carbon": {"backend": "codecarbon"}}}).profile)  # carbon not selected
