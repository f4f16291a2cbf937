from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from calibrax.core import MeasureResult, Workload
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, measure_profiled
from calibrax.profiling.compilation import cache_state
from calibrax.profiling.resources import LEAK_MIN_BYTES, ResourcesProfiler, peak_rss_supported

FAST = TimingProtocol(min_rounds=5, min_time=0.0, warmup_time=0.0, min_round_time=0.002,
                      allow_recompile=True)  # the profiler counts the recompilations the guard would refuse


def _run(workload: Workload, names: tuple[str, ...]) -> tuple[dict[str, MeasureResult], dict[str, Any]]:
    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    measure_profiled(workload, FAST, ProfileContext(options=ProfilingOptions(profilers=names)), into=into, meta=meta)
    return into, meta


def _allocating() -> Workload:
    def grow() -> int:
        block = bytearray(64 << 20)  # 64 MiB, touched, then freed
        block[:: 4096] = b"x" * len(block[:: 4096])
        return len(block)

    return Workload(grow)


def test_peak_rss_sees_a_transient_allocation_and_no_leak_is_flagged() -> None:
    into, meta = _run(_allocating(), ("resources",))
    assert into["peak_rss"].samples[0] >= into["rss_growth"].meta["rss_before"] + (48 << 20)
    assert into["rss_growth"].meta["leak_suspected"] is False
    assert 0 < into["cpu_utilization"].samples[0] <= 8
    assert into["cpu_time"].samples[0] > 0
    assert meta["profiling"]["resources"]["peak_rss_method"] == (
        "VmHWM after clear_refs" if peak_rss_supported() else "sampled every 0.01 s")


def test_the_sampling_thread_measures_peak_rss_where_vmhwm_is_not_resettable() -> None:
    profiler = ResourcesProfiler(ProfileContext(), use_sampler=True, interval=0.001)
    workload = _allocating()
    profiler.start(workload)
    for _ in range(20):
        workload.call()
    profiler.stop()
    out = profiler.collect({})
    assert out.measures["peak_rss"].meta["method"].startswith("sampled")
    assert "cpu_time" in out.unavailable  # no time measure given: calls unknown


def test_a_leaking_workload_is_flagged() -> None:
    import mmap

    kept: list[mmap.mmap] = []

    def leak() -> int:
        # fresh pages each call: heap blocks could reuse memory freed (and still resident) by
        # earlier tests in this process, which would hide the growth
        block = mmap.mmap(-1, 256 << 10)
        for offset in range(0, len(block), 4096):
            block[offset] = 1
        kept.append(block)
        return len(kept)

    into, _ = _run(Workload(leak), ("resources",))
    growth = into["rss_growth"]
    assert growth.samples[0] > LEAK_MIN_BYTES
    assert growth.meta["leak_suspected"] is True and growth.meta["confirm_growth_per_call"] > 0
    for block in kept:
        block.close()
    kept.clear()


def test_recompilations_in_the_rounds_are_counted() -> None:
    x = jnp.ones(16)
    stable, _ = _run(Workload(jax.jit(lambda v: v * 2), args=(x,)), ("compilation",))
    assert stable["recompilations"].samples == (0.0,)

    def retraces() -> jax.Array:
        return jax.jit(lambda v: v * 3)(x)  # a new function object, compiled on every call

    into, meta = _run(Workload(retraces), ("compilation",))
    assert into["recompilations"].samples[0] >= 5
    info = meta["profiling"]["compilation"]
    assert info["recompiled_in_rounds"] == ["jit(<lambda>)"]
    recorded, now = dict(info["persistent_cache"]), cache_state()
    for state in (recorded, now):  # other processes sharing the cache folder (as the test session does) add entries
        del state["entries"], state["warm"]
    assert recorded == now


def test_cache_state_reports_a_warm_persistent_cache(tmp_path: Any) -> None:
    (tmp_path / "entry").write_text("x")
    before = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
    try:
        jax.config.update("jax_compilation_cache_dir", str(tmp_path))
        state = cache_state()
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
    assert state["cache_dir"] == str(tmp_path) and state["entries"] == 1 and state["warm"] is True
