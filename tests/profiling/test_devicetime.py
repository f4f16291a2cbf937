"""The device timer: spans of XLA ops per call from a real CPU trace, the exclusion of the flush
kernel, the error for calls that run nothing on the device, the CUPTI path with a stand-in
extension and its message on CPU, and reading GPU-shaped planes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import pytest

from calibrax.core import ConfigError, Direction
from calibrax.profiling import devicetime
from calibrax.profiling._trace import op_events, step_spans
from calibrax.profiling.cache import FLUSH_MODULE, CacheFlusher
from calibrax.profiling.devicetime import DeviceTimeError, device_measures


def _settings(timer: str = "device", calls: int = 6) -> Any:
    return SimpleNamespace(timer=timer, device_calls=calls)


def _jitted(n: int = 128) -> Callable[[], Any]:
    f, x = jax.jit(lambda a: a @ a + 1.0), jnp.ones((n, n))
    f(x).block_until_ready()
    return lambda: f(x)


def test_device_time_is_positive_and_within_wall_time_for_every_call() -> None:
    out = device_measures(_jitted(), jax.block_until_ready, _settings(calls=8))
    device, overhead = out["device_time"], out["dispatch_overhead"]
    assert device.measure.unit == "s" and device.measure.direction is Direction.LOWER
    assert overhead.measure.name == "dispatch_overhead"
    assert len(device.samples) == len(overhead.samples) == 8
    wall = [d + o for d, o in zip(device.samples, overhead.samples, strict=True)]
    assert all(0 < d <= w for d, w in zip(device.samples, wall, strict=True))
    assert all(o >= 0 for o in overhead.samples)
    meta = device.meta
    assert meta["timer"] == "device" and meta["source"] == "host XLA threads" and meta["calls"] == 8
    assert meta["modules"] == ["jit__lambda"] and meta["excluded_module"] == FLUSH_MODULE
    assert meta["kernels"] and all(k["mean_s"] > 0 and k["per_call"] > 0 for k in meta["kernels"])


def test_a_cold_run_leaves_the_flush_kernel_out_of_every_span() -> None:
    flush = CacheFlusher(nbytes=32 << 20)
    tiny = jax.jit(lambda a: a + 1.0)
    x = jnp.ones(8)
    tiny(x).block_until_ready()
    out = device_measures(lambda: tiny(x), jax.block_until_ready, _settings(calls=4), flush=flush)
    assert flush.calls == 4 and out["device_time"].meta["flushed"] is True
    assert FLUSH_MODULE not in out["device_time"].meta["modules"]

    # Even a flush inside the recorded call is not counted: its ops are dropped by module name.
    def flush_then_tiny() -> Any:
        flush()
        return tiny(x)

    out = device_measures(flush_then_tiny, jax.block_until_ready, _settings(calls=4))
    meta = out["device_time"].meta
    assert meta["modules"] == ["jit__lambda"]
    assert all(FLUSH_MODULE != k["module"] for k in meta["kernels"])
    # the tiny op takes microseconds; a 32 MiB rewrite takes far longer
    assert max(out["device_time"].samples) < 0.5 * min(out["dispatch_overhead"].samples)


def test_a_plain_python_callable_is_refused_with_the_reason() -> None:
    with pytest.raises(DeviceTimeError, match="ran no XLA op on the device.*plain Python"):
        device_measures(lambda: sum(range(1000)), lambda out: out, _settings(calls=2))


def test_cupti_on_a_machine_without_an_nvidia_gpu_says_what_to_use() -> None:
    with pytest.raises(ConfigError, match=r"profile.timer=cupti needs an NVIDIA GPU.*profile.timer=device"):
        device_measures(_jitted(16), jax.block_until_ready, _settings("cupti"))


def test_the_wall_timer_adds_no_device_measures() -> None:
    assert device_measures(_jitted(16), jax.block_until_ready, _settings("wall")) == {}


@pytest.mark.parametrize(
    ("timer", "calls", "match"),
    [("xprof", 3, "profile.timer must be"), ("device", 0, "device_calls must be an integer >= 1"),
     ("device", 2.5, "device_calls must be")],
)
def test_bad_settings_are_refused(timer: str, calls: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        device_measures(lambda: None, lambda out: out, SimpleNamespace(timer=timer, device_calls=calls))


class _FakeCupti:
    """Stands in for the Mosaic GPU extension: each call 'launches' two kernels."""

    def __init__(self) -> None:
        self.finalized = False

    def _cupti_init(self) -> None:
        pass

    def _cupti_get_timings(self, finalize: bool) -> list[tuple[str, float]]:
        self.finalized = self.finalized or finalize
        return [("gemm_kernel", 1e-6), ("add_kernel", 2e-6)]  # ms: 1 ns and 2 ns


def test_cupti_sums_kernel_times_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeCupti()
    monkeypatch.setattr(devicetime, "_cupti_extension", lambda: fake)
    out = device_measures(_jitted(16), jax.block_until_ready, _settings("cupti", 3))
    assert out["device_time"].samples == pytest.approx((3e-9,) * 3)
    assert fake.finalized
    meta = out["device_time"].meta
    assert meta["timer"] == "cupti" and {k["op"] for k in meta["kernels"]} == {"gemm_kernel", "add_kernel"}


def test_cupti_with_no_kernel_launched_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(_cupti_init=lambda: None, _cupti_get_timings=lambda finalize: None)
    monkeypatch.setattr(devicetime, "_cupti_extension", lambda: fake)
    with pytest.raises(DeviceTimeError, match="no GPU kernel"):
        device_measures(lambda: 1, lambda out: out, _settings("cupti", 1))


# GPU-shaped planes, as jax.profiler.ProfileData presents them.
def _ev(name: str, start: float, dur: float, **stats: Any) -> Any:
    return SimpleNamespace(name=name, start_ns=start, duration_ns=dur, stats=list(stats.items()))


def _line(name: str, *events: Any) -> Any:
    return SimpleNamespace(name=name, events=list(events))


def _plane(name: str, *lines: Any) -> Any:
    return SimpleNamespace(name=name, lines=list(lines))


def test_device_lines_win_over_host_threads_and_the_step_annotations_are_found() -> None:
    host = _plane("/host:CPU",
                  _line("python", _ev(devicetime.STEP_NAME, 0, 100, step_num=0), _ev("PjitFunction(f)", 1, 5)),
                  _line("tf_XLAPjRtCpuClient/1", _ev("thunk", 10, 5, hlo_op="launch", hlo_module="jit_f")))
    gpu = _plane("/device:GPU:0",
                 _line("Stream #13(compute)", _ev("gemm", 20, 30, hlo_op="dot.1", hlo_module="jit_f"),
                       _ev("flush", 60, 10, hlo_op="add", hlo_module=FLUSH_MODULE)),
                 _line("XLA Ops", _ev("dot.1", 20, 30)))
    ops, source = op_events(SimpleNamespace(planes=[host, gpu]))
    assert source == "device lines"
    assert [(o.op, o.module, o.line) for o in ops] == [("dot.1", "jit_f", "Stream #13(compute)"),
                                                        ("add", FLUSH_MODULE, "Stream #13(compute)")]
    assert [(s.step, s.start, s.end) for s in step_spans(SimpleNamespace(planes=[host, gpu]), devicetime.STEP_NAME)] \
        == [(0, 0.0, 100.0)]


def test_an_xla_ops_line_without_stats_takes_its_module_from_the_modules_line() -> None:
    gpu = _plane("/device:GPU:0",
                 _line("XLA Modules", _ev("jit_f(12)", 0, 50), _ev(f"{FLUSH_MODULE}(3)", 60, 40)),
                 _line("XLA Ops", _ev("dot.1", 5, 30), _ev("add.2", 70, 20)))
    ops, source = op_events(SimpleNamespace(planes=[gpu]))
    assert source == "device lines"
    assert [(o.op, o.module) for o in ops] == [("dot.1", "jit_f"), ("add.2", FLUSH_MODULE)]


_SHARDED = """
import json, types
import jax, jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
from calibrax.profiling.devicetime import device_measures
mesh = jax.make_mesh((4,), ("x",))
rows = NamedSharding(mesh, P("x", None))
a = jax.device_put(jnp.ones((256, 256)), rows)
b = jax.device_put(jnp.ones((256, 256)), NamedSharding(mesh, P()))
f = jax.jit(jnp.matmul, out_shardings=rows)
f(a, b).block_until_ready()
out = device_measures(lambda: f(a, b), jax.block_until_ready, types.SimpleNamespace(timer="device", device_calls=3))
print(json.dumps({"device": out["device_time"].samples, "overhead": out["dispatch_overhead"].samples,
                  "kernels": out["device_time"].meta["kernels"]}))
"""


def test_a_call_sharded_over_four_devices_spans_all_their_ops() -> None:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", _SHARDED], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found["device"]) == 3 and all(d > 0 and o >= 0 for d, o in zip(found["device"], found["overhead"], strict=True))
    top = found["kernels"][0]
    assert top["module"] == "jit_matmul" and top["per_call"] == 4  # one dot per device


@pytest.mark.parametrize(("wall", "device"), [(1e-6, 2e-6), (1e-6, 0.0)])
def test_a_span_longer_than_its_call_or_empty_is_an_error_not_a_clamp(wall: float, device: float) -> None:
    with pytest.raises(DeviceTimeError, match="must be > 0 and no longer than the call"):
        devicetime._results([wall], [device], {"timer": "device", "calls": 1, "trace_dir": "/tmp/t"})
