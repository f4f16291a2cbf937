from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import pytest

from calibrax.core import ConfigError, Workload
from calibrax.profiling import TimingProtocol, calibrate_calls, measure_workload, time_stages
from calibrax.profiling.timing import _next_125

FAST = TimingProtocol(min_rounds=5, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)


def test_next_125_sequence() -> None:
    assert [_next_125(n) for n in (1, 2, 3, 6, 11, 21, 51, 101)] == [1, 2, 5, 10, 20, 50, 100, 200]


def test_calibration_reaches_the_minimum_round_time() -> None:
    calls = []

    def run(n: int) -> int:
        calls.append(n)
        return n * 30_000  # 30 us per call

    assert calibrate_calls(run, 0.001) == 50
    assert calls[0] == 1 and calls[-1] == 50


def test_stages_are_timed_for_jitted_functions_only() -> None:
    stages = time_stages(Workload(jax.jit(lambda x: x @ x), args=(jnp.ones((32, 32)),)))
    assert set(stages) == {"trace_time", "lower_time", "compile_time"}
    assert all(v > 0 for v in stages.values())
    assert time_stages(Workload(lambda: 1)) == {}


def test_samples_are_seconds_per_call_and_meta_records_the_protocol() -> None:
    def sleepy() -> None:
        time.sleep(0.002)

    out = measure_workload(Workload(sleepy), FAST)
    t = out["time"]
    assert t.measure.unit == "s"
    assert len(t.samples) >= 5
    assert all(0.0019 < s < 0.05 for s in t.samples)
    assert t.meta["calls_per_round"] == 1 and t.meta["rounds"] == len(t.samples)
    assert t.meta["mode"] == "latency" and "compile_time" not in out


def test_every_call_is_waited_for_in_latency_mode() -> None:
    x = jnp.ones((256, 256))
    f = jax.jit(lambda a: jnp.tanh(a @ a) @ a)
    out = measure_workload(Workload(f, args=(x,)), FAST)
    start = time.perf_counter()
    f(x).block_until_ready()
    one_call = time.perf_counter() - start
    assert min(out["time"].samples) > one_call / 20  # a dispatch-only number would be ~1000x less


def test_throughput_mode_and_items() -> None:
    proto = TimingProtocol(mode="throughput", min_rounds=3, min_time=0.0, warmup_time=0.0)
    out = measure_workload(Workload(jax.jit(jnp.cos), args=(jnp.ones(1024),), items=1024), proto)
    assert out["time"].meta["mode"] == "throughput"
    assert len(out["throughput"].samples) == len(out["time"].samples)
    assert out["throughput"].samples[0] == pytest.approx(1024 / out["time"].samples[0])


def test_pytree_outputs_are_blocked() -> None:
    f = jax.jit(lambda x: {"a": x + 1, "b": (x * 2, 3)})
    out = measure_workload(Workload(f, args=(jnp.ones(4),)), FAST)
    assert len(out["time"].samples) >= 5


def test_stage_times_survive_a_failure_later() -> None:
    def boom(x: jax.Array) -> jax.Array:
        return x

    class Failing:
        def __init__(self) -> None:
            self.jitted = jax.jit(boom)

        def trace(self, *a: object) -> object:
            return self.jitted.trace(*a)

        def __call__(self, *a: object) -> object:
            raise RuntimeError("fails at run time")

    got: dict = {}
    with pytest.raises(RuntimeError):
        measure_workload(Workload(Failing(), args=(jnp.ones(2),)), FAST, into=got)
    assert "compile_time" in got and "time" not in got


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "fast"}, "profile.mode must be"),
        ({"min_rounds": 0}, "profile.min_rounds must be a positive integer"),
        ({"min_rounds": 10, "max_rounds": 5}, "max_rounds .5. is below"),
        ({"min_time": -1.0}, "profile.min_time must be a number of seconds"),
        ({"timer": "gpu"}, r"profile.timer must be one of 'wall', 'device', 'cupti'; got 'gpu'"),
        ({"cache": "warm"}, r"profile.cache must be one of 'hot', 'cold'; got 'warm'"),
        ({"inputs": "copy"}, r"profile.inputs must be one of 'reuse', 'rotate'; got 'copy'"),
        ({"device_calls": 0}, r"profile.device_calls must be a positive integer \(>= 1\), got 0"),
        ({"device_calls": True}, "profile.device_calls must be a positive integer"),
        ({"allow_recompile": "yes"}, "allow_recompile .a benchmark YAML key. must be true or false; got 'yes'"),
        ({"cache": "cold", "mode": "throughput"}, "Use profile.mode=latency with it"),
    ],
)
def test_bad_protocols_are_config_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TimingProtocol(**kwargs)


def test_protocol_takes_the_config_schemas_enums_by_value() -> None:
    from calibrax.runner.config import CacheMode, InputsMode, Timer, TimingMode

    proto = TimingProtocol(mode=TimingMode.throughput, timer=Timer.device, cache=CacheMode.hot,
                           inputs=InputsMode.rotate, allow_recompile=True)
    assert (proto.mode, proto.timer, proto.cache, proto.inputs) == ("throughput", "device", "hot", "rotate")
    assert type(proto.timer) is str and proto.device_calls == 10 and proto.allow_recompile
