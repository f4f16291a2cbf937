"""Timing workloads whose arguments flow between calls: donation, carry, setup, the compile guard."""

from __future__ import annotations

import dataclasses
import itertools
import weakref
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from calibrax.core import BenchmarkError, ConfigError, Workload, from_train_step
from calibrax.profiling import TimingProtocol, measure_workload

FIFTY = TimingProtocol(min_rounds=50, max_rounds=50, min_time=0.0, warmup_time=0.0, min_round_time=0.0002)
QUICK = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0002)


def _donating_step() -> jax.stages.Wrapped:
    return jax.jit(lambda w: w * 0.99 + 0.01, donate_argnums=0)


def test_a_donating_step_runs_50_rounds_when_it_carries_its_output() -> None:
    w0 = jnp.ones(1024)
    work = Workload(_donating_step(), args=(w0,), carry=True)
    out = measure_workload(work, FIFTY)
    meta = out["time"].meta
    assert len(out["time"].samples) == 50 and meta["rounds"] == 50
    assert meta["flow"] == "carry" and meta["carry"] == ["out -> args[0]"] and meta["donated_args"] == [0]
    assert w0.is_deleted()  # the first call really donated the buffer
    calls = 1 + meta["warmup_calls"] - 1 + 50 * meta["calls_per_round"]
    state = np.asarray(work.current_args[0])
    assert state[0] == pytest.approx(1.0)  # w*0.99+0.01 keeps 1.0 fixed: every call saw a valid buffer
    assert calls >= 50


def test_a_donating_step_runs_50_rounds_with_fresh_arguments_from_setup() -> None:
    built = []

    def setup() -> tuple[jax.Array]:
        built.append(1)
        return (jnp.full(1024, 2.0),)

    out = measure_workload(Workload(_donating_step(), setup=setup), FIFTY)
    meta = out["time"].meta
    assert len(out["time"].samples) == 50 and meta["flow"] == "setup" and meta["carry"] is None
    assert len(built) >= 50 * meta["calls_per_round"]  # one setup per call, none shared


def test_a_donating_step_without_carry_or_setup_stops_before_timing_naming_both_fixes() -> None:
    got: dict = {}
    calls = []
    step = _donating_step()

    class Spy:
        def trace(self, *a: object) -> object:
            return step.trace(*a)

        def __call__(self, *a: jax.Array) -> jax.Array:
            calls.append(1)
            return step(*a)

    for fn in (step, Spy()):
        with pytest.raises(BenchmarkError, match="donates argument 0") as info:
            measure_workload(Workload(fn, args=(jnp.ones(8),)), QUICK, into=got)
        assert "carry=True" in str(info.value) and "setup=" in str(info.value)
    assert calls == [] and "compile_time" in got and "time" not in got


def test_carrying_only_some_donated_arguments_is_refused() -> None:
    step = jax.jit(lambda a, b: (a + 1, b + 1), donate_argnums=(0, 1))
    with pytest.raises(BenchmarkError, match=r"donates argument 1 .*carries only into argument\(s\) \[0\]"):
        measure_workload(Workload(step, args=(jnp.ones(2), jnp.ones(2)), carry=(0,)), QUICK)
    kw = jax.jit(lambda a, *, b: a + b, donate_argnames="b")
    with pytest.raises(BenchmarkError, match="donates keyword 'b'"):
        measure_workload(Workload(kw, args=(jnp.ones(2),), kwargs={"b": jnp.ones(2)}, carry=True), QUICK)


def test_a_plain_callable_reusing_a_donated_buffer_gets_the_same_advice() -> None:
    step, x = _donating_step(), jnp.ones(3)
    with pytest.raises(BenchmarkError, match=r"donated buffer again .*carry=.*setup="):
        measure_workload(Workload(lambda: step(x)), QUICK)


def test_from_train_step_carries_the_adam_state_and_the_loss_falls_over_the_rounds() -> None:
    model = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    kernel = np.asarray(model.kernel[...])
    opt = nnx.Optimizer(model, optax.adam(5e-2), wrt=nnx.Param)
    x = jax.random.normal(jax.random.key(0), (32, 3))
    y = x @ jnp.array([[1.0], [-2.0], [0.5]])
    work = from_train_step(model, opt, lambda m, a, b: ((m(a) - b) ** 2).mean(), (x, y))
    first_loss = float(work.call()[0])
    out = measure_workload(work, FIFTY)
    meta = out["time"].meta
    assert meta["flow"] == "carry" and meta["carry"] == ["out[1] -> args[0]"] and meta["donated_args"] == [0]
    steps = int(work.current_args[0][1]["step"][...])  # (model, optimizer) state: the step count
    assert steps >= 1 + 50 * meta["calls_per_round"]  # every timed call was one more Adam step
    assert float(work.call()[0]) < 0.5 * first_loss  # 51+ Adam steps at 5e-2 at least halve it
    np.testing.assert_array_equal(model.kernel[...], kernel)  # the model's own buffers were not donated


def _alternating_scalar(size: int) -> object:
    """Setup for jnp.add: jit caches are shared by every jax.jit(jnp.add), so each test has its own size."""
    count = itertools.count()

    def setup() -> tuple[jax.Array, float | int]:
        i = next(count)
        return (jnp.ones(size), i if i % 2 else float(i))  # a Python int one call, a float the next

    return setup


def test_a_changing_python_scalar_is_caught_as_recompiling() -> None:
    got: dict = {}
    with pytest.raises(BenchmarkError, match=r"compiled 1 time\(s\) during its timed calls \(jit\(add\) x1\)") as info:
        measure_workload(Workload(jax.jit(jnp.add), setup=_alternating_scalar(3)), QUICK, into=got)
    assert "jax_explain_cache_misses" in str(info.value) and "allow_recompile: true" in str(info.value)
    assert got["time"].meta["recompilations"] == 1  # what was measured is kept with the error


def test_a_static_scalar_taking_new_values_recompiles_every_call() -> None:
    count = itertools.count()
    add = jax.jit(jnp.add, static_argnums=1)
    with pytest.raises(BenchmarkError, match="static argument"):
        measure_workload(Workload(add, setup=lambda: (jnp.ones(3), float(next(count)))), QUICK)


def test_a_kwarg_that_changes_shape_is_caught() -> None:
    sizes = itertools.count(1)
    f = jax.jit(lambda *, x: x.sum())
    with pytest.raises(BenchmarkError, match="compiled"):
        measure_workload(Workload(f, setup=lambda: ((), {"x": jnp.ones(next(sizes))})), QUICK)


def test_allow_recompile_keeps_the_case_and_counts_the_compiles() -> None:
    out = measure_workload(Workload(jax.jit(jnp.add), setup=_alternating_scalar(7)),
                           dataclasses.replace(QUICK, allow_recompile=True))
    meta = out["time"].meta
    assert meta["allow_recompile"] and meta["recompilations"] == 1 and meta["recompiled"] == ["jit(add)"]


@pytest.fixture
def no_persistent_cache() -> Iterator[None]:
    """JAX's persistent compilation cache off in this process for the test: a first call then
    compiles whatever programs other processes put in the cache (tests/conftest.py shares one)."""
    from jax._src import compilation_cache  # reset_cache: the cache decides once per process whether it is used

    before = jax.config.jax_enable_compilation_cache  # type: ignore[attr-defined]
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", before)
        compilation_cache.reset_cache()


@pytest.mark.usefixtures("no_persistent_cache")
def test_a_steady_case_has_no_recompilation_and_says_how_its_compile_went() -> None:
    f = jax.jit(lambda a: jnp.tanh(a) * 2)
    x = jnp.ones(16)
    first = measure_workload(Workload(f, args=(x,)), QUICK)
    assert first["time"].meta["recompilations"] == 0
    assert first["compile_time"].meta == {"cache": "compiled"}
    again = measure_workload(Workload(f, args=(x,)), QUICK)
    assert again["compile_time"].meta["cache"] == "in_memory_cache_hit"


def test_host_arrays_and_python_scalars_are_put_on_the_device_once() -> None:
    seen = []
    inner = jax.jit(lambda x, s, n: x * s + n, static_argnums=2)

    class Spy:
        _jit_info = inner._jit_info  # type: ignore[attr-defined]

        def trace(self, *a: object) -> object:
            return inner.trace(*a)

        def __call__(self, *a: object) -> jax.Array:
            seen.append(a)
            return inner(*a)

    out = measure_workload(Workload(Spy(), args=(np.ones(4, np.float32), 2.0, 3)), QUICK)
    assert out["time"].meta["placed_on_device"] == ["args[0]", "args[1]"]
    assert all(isinstance(x, jax.Array) and isinstance(s, jax.Array) and type(n) is int for x, s, n in seen)


def test_plain_callables_keep_their_python_arguments_and_outputs() -> None:
    out = measure_workload(Workload(sum, args=([1, 2, 3],)), QUICK)
    assert out["time"].meta["placed_on_device"] == []
    assert out["time"].meta["waits_on"].startswith("nothing")


def test_a_jitted_function_returning_no_array_is_refused() -> None:
    with pytest.raises(BenchmarkError, match="holds no JAX array: there is nothing to wait on"):
        measure_workload(Workload(jax.jit(lambda x: None), args=(jnp.ones(2),)), QUICK)


class _Out:
    """A traceable output object, so a test can count how many are alive."""


def test_throughput_mode_keeps_only_the_last_output() -> None:
    alive: weakref.WeakSet[_Out] = weakref.WeakSet()
    most = [0]

    def make() -> _Out:
        most[0] = max(most[0], len(alive))
        o = _Out()
        alive.add(o)
        return o

    proto = dataclasses.replace(QUICK, mode="throughput", min_round_time=0.001)
    out = measure_workload(Workload(make), proto)
    assert out["time"].meta["calls_per_round"] > 10 and most[0] <= 2


def test_throughput_mode_holds_no_list_of_device_outputs() -> None:
    f = jax.jit(lambda a: a + 1)
    refs: list[weakref.ref[jax.Array]] = []
    most = [0]

    class Counting:
        def trace(self, *a: object) -> object:
            return f.trace(*a)

        def __call__(self, a: jax.Array) -> jax.Array:
            most[0] = max(most[0], sum(r() is not None for r in refs[-50:]))
            out = f(a)
            refs.append(weakref.ref(out))
            return out

    proto = dataclasses.replace(QUICK, mode="throughput", min_round_time=0.001)
    out = measure_workload(Workload(Counting(), args=(jnp.ones(64),)), proto)
    assert out["time"].meta["calls_per_round"] > 10 and most[0] <= 1  # only the previous output is alive


@pytest.mark.parametrize("mode", ["latency", "throughput"])
def test_carry_and_setup_work_in_both_modes(mode: str) -> None:
    proto = dataclasses.replace(QUICK, mode=mode)
    carried = Workload(_donating_step(), args=(jnp.ones(16),), carry=True)
    assert len(measure_workload(carried, proto)["time"].samples) >= 3
    fresh = Workload(_donating_step(), setup=lambda: ((jnp.ones(16),), {}))
    assert measure_workload(fresh, proto)["time"].meta["mode"] == mode


def test_carried_outputs_that_do_not_fit_the_arguments_are_refused() -> None:
    grow = jax.jit(lambda w: jnp.concatenate([w, w]))
    with pytest.raises(BenchmarkError, match=r"does not fit argument 0.*float32\[4\], the argument's float32\[2\]"):
        measure_workload(Workload(grow, args=(jnp.ones(2),), carry=True), QUICK)
    with pytest.raises(BenchmarkError, match="not a tuple or list"):
        measure_workload(Workload(jax.jit(lambda a, b: a + b), args=(jnp.ones(2), jnp.ones(2)), carry=True), QUICK)
    with pytest.raises(BenchmarkError, match="needs 3 outputs, but fn returned 2"):
        measure_workload(Workload(jax.jit(lambda a: (a, a)), args=(jnp.ones(2),), carry=(2,)), QUICK)


def test_setup_must_return_arguments() -> None:
    with pytest.raises(BenchmarkError, match="must return an args tuple or an .args, kwargs. pair, got Array"):
        measure_workload(Workload(jax.jit(jnp.sin), setup=lambda: jnp.ones(2)), QUICK)


class _SmallFlusher:
    """Stands in for CacheFlusher with a small buffer, so cold-cache tests stay quick."""

    module_name = "jit_small_flush"
    source = "test"

    def __init__(self) -> None:
        self.nbytes, self.calls = 1 << 16, 0
        self._buf = jnp.zeros(1 << 14, jnp.int32)
        self._kernel = jax.jit(lambda b: b + 1, donate_argnums=0)

    def __call__(self) -> None:
        self._buf = self._kernel(self._buf).block_until_ready()
        self.calls += 1


def test_cold_cache_flushes_before_every_timed_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import calibrax.profiling.cache as cache

    made: list[_SmallFlusher] = []
    monkeypatch.setattr(cache, "CacheFlusher", lambda: made.append(_SmallFlusher()) or made[-1])
    proto = dataclasses.replace(QUICK, cache="cold")
    out = measure_workload(Workload(jax.jit(jnp.cos), args=(jnp.ones(256),)), proto)
    meta = out["time"].meta
    timed = meta["warmup_calls"] - 1 + meta["rounds"] * meta["calls_per_round"]
    assert made[0].calls >= timed and meta["cache"] == "cold" and meta["flush"]["module"] == "jit_small_flush"
    assert meta["recompilations"] == 0  # the flush kernel's own compile is not the case's


def test_cold_cache_needs_latency_mode() -> None:
    with pytest.raises(ConfigError, match="profile.cache='cold' flushes the caches before every timed call"):
        TimingProtocol(cache="cold", mode="throughput")


def test_rotate_cycles_through_copies_of_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import calibrax.profiling.cache as cache

    monkeypatch.setattr(cache, "cache_info", lambda: (1 << 14, "test"))
    seen = []
    f = jax.jit(lambda a: a * 2)

    class Spy:
        def trace(self, *a: object) -> object:
            return f.trace(*a)

        def __call__(self, a: jax.Array) -> jax.Array:
            seen.append(a.unsafe_buffer_pointer())
            return f(a)

    out = measure_workload(Workload(Spy(), args=(jnp.ones(1024),)), dataclasses.replace(QUICK, inputs="rotate"))
    rotate = out["time"].meta["rotate"]
    assert rotate["copies"] == 5 and len(set(seen[1:])) == 5  # 4 KiB each, past the 16 KiB cache


def test_rotate_is_skipped_and_said_so_for_carried_state() -> None:
    work = Workload(_donating_step(), args=(jnp.ones(8),), carry=True)
    meta = measure_workload(work, dataclasses.replace(QUICK, inputs="rotate"))["time"].meta
    assert meta["inputs"] == "carry" and "rotate_skipped" in meta


@pytest.mark.parametrize("flow", ["carry", "setup"])
def test_the_device_timer_adds_device_time_after_the_wall_rounds(flow: str) -> None:
    step = _donating_step()
    work = (Workload(step, args=(jnp.ones(4096),), carry=True) if flow == "carry"
            else Workload(step, setup=lambda: (jnp.ones(4096),)))
    out = measure_workload(work, dataclasses.replace(QUICK, timer="device", device_calls=3))
    assert len(out["device_time"].samples) == 3 and out["time"].meta["timer"] == "device"
    assert all(0 < d for d in out["device_time"].samples) and "dispatch_overhead" in out


def test_a_profiler_start_that_compiles_is_not_a_recompilation() -> None:
    def start() -> None:
        jax.jit(lambda a: a - 7)(jnp.ones(5)).block_until_ready()  # compiles, outside the case

    out = measure_workload(Workload(jax.jit(jnp.sin), args=(jnp.ones(5),)), QUICK, on_rounds=start)
    assert out["time"].meta["recompilations"] == 0


def test_hooks_run_around_the_rounds_and_before_the_device_timer() -> None:
    events: list[str] = []
    f = jax.jit(jnp.cos)

    class Spy:
        def trace(self, *a: object) -> object:
            return f.trace(*a)

        def __call__(self, a: jax.Array) -> jax.Array:
            events.append("call")
            return f(a)

    measure_workload(Workload(Spy(), args=(jnp.ones(8),)), dataclasses.replace(QUICK, timer="device", device_calls=2),
                     on_compiled=lambda _: events.append("compiled"), on_rounds=lambda: events.append("rounds"),
                     on_rounds_end=lambda: events.append("end"))
    assert events[0] == "compiled" and events.count("rounds") == events.count("end") == 1
    end = events.index("end")
    assert events.index("rounds") < end and events[end + 1:] == ["call"] * 3  # 1 untimed + 2 recorded


def test_a_persistent_cache_hit_is_told_apart_from_a_compile(tmp_path: object) -> None:
    config: object = jax.config
    before = (jax.config.jax_compilation_cache_dir,  # type: ignore[attr-defined]
              jax.config.jax_persistent_cache_min_compile_time_secs,  # type: ignore[attr-defined]
              jax.config.jax_persistent_cache_min_entry_size_bytes)  # type: ignore[attr-defined]
    from jax._src import compilation_cache  # reset_cache: the cache binds its folder once per process

    f = jax.jit(lambda a: jnp.sinh(a) * 3 - 1)
    x = jnp.ones(24)
    try:
        compilation_cache.reset_cache()
        config.update("jax_compilation_cache_dir", str(tmp_path))  # type: ignore[attr-defined]
        config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # type: ignore[attr-defined]
        config.update("jax_persistent_cache_min_entry_size_bytes", 0)  # type: ignore[attr-defined]
        first = measure_workload(Workload(f, args=(x,)), QUICK)["compile_time"].meta["cache"]
        jax.clear_caches()
        second = measure_workload(Workload(f, args=(x,)), QUICK)["compile_time"].meta["cache"]
    finally:
        for name, value in zip(("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
                                "jax_persistent_cache_min_entry_size_bytes"), before, strict=True):
            config.update(name, value)  # type: ignore[attr-defined]
        compilation_cache.reset_cache()
    assert (first, second) == ("compiled", "persistent_cache_hit")
