"""Wall time against device time, and hot against cold caches, on this machine.

    .venv/bin/python benchmarks/meta/device_timer.py            # about a minute on 2 cores
    .venv/bin/python benchmarks/meta/device_timer.py --calls 20 --skip-memory

Part 1: for a tiny op (x + 1 on 8 floats), a medium one (256x256 matmul) and two large ones
(2048x2048 matmul, 16 Mi-float elementwise), the median wall time per call of a plain loop
(perf_counter around call and block_until_ready, no profiler), then under the device timer
(``calibrax.profiling.devicetime.device_measures``): wall per call, device time (span of the
call's XLA ops in the trace) and dispatch overhead (wall minus device).

Part 2: a donated, carried triad ``a = a / 2 + b + 2 c`` (16 bytes per element: read a, b and
c, write a in place; XLA's bytes accessed agree) over a
working set that fits in the last-level cache (a quarter of it) and one 4x larger than it,
each hot (calls back to back) and cold (``CacheFlusher`` before every call, outside its span),
reported per byte. A cold cache-sized triad should be slower per byte than a hot one; the
memory-sized triad streams from memory either way.

Part 3: the same through ``calibrax.profiling.measure_workload`` (the runner's path) for the
256x256 matmul with ``timer=device``, hot and cold: its ``time`` (wall rounds),
``device_time`` and ``dispatch_overhead``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp

from calibrax.core import Workload
from calibrax.profiling import TimingProtocol, measure_workload
from calibrax.profiling.cache import CacheFlusher, cache_info
from calibrax.profiling.devicetime import device_measures


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:10.2f}"


def _wall_loop(call: Callable[[], Any], calls: int) -> float:
    """Median seconds per call of a plain loop, each call blocked, after 3 warm-up calls."""
    for _ in range(3):
        jax.block_until_ready(call())
    times = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        jax.block_until_ready(call())
        times.append((time.perf_counter_ns() - t0) * 1e-9)
    return statistics.median(times)


def _device(call: Callable[[], Any], calls: int, flush: CacheFlusher | None = None) -> tuple[float, float, float]:
    """Median wall, device time and dispatch overhead per call under the device timer."""
    out = device_measures(call, jax.block_until_ready, SimpleNamespace(timer="device", device_calls=calls), flush)
    device, overhead = out["device_time"].samples, out["dispatch_overhead"].samples
    wall = [d + o for d, o in zip(device, overhead, strict=True)]
    return statistics.median(wall), statistics.median(device), statistics.median(overhead)


def _ops() -> list[tuple[str, Callable[[], Any]]]:
    key = jax.random.key(0)
    x8 = jnp.ones(8, jnp.float32)
    m256 = jax.random.normal(key, (256, 256), jnp.float32)
    m2048 = jax.random.normal(key, (2048, 2048), jnp.float32)
    v16 = jax.random.normal(key, (16 * 2**20,), jnp.float32)
    add1 = jax.jit(lambda x: x + 1.0)
    mm = jax.jit(lambda a: a @ a)
    ew = jax.jit(lambda v: jnp.tanh(v) * 2.0 + 1.0)
    return [
        ("tiny: x+1, 8 f32", lambda: add1(x8)),
        ("medium: 256^2 matmul", lambda: mm(m256)),
        ("large: 2048^2 matmul", lambda: mm(m2048)),
        ("large: 16 Mi f32 tanh*2+1", lambda: ew(v16)),
    ]


def part_ops(calls: int) -> None:
    print(f"\nwall vs device time per call (medians of {calls} calls, microseconds)")
    print(f"{'op':<28}{'wall loop':>10}{'wall/prof':>11}{'device':>11}{'overhead':>11}{'dev/wall':>9}")
    for name, call in _ops():
        jax.block_until_ready(call())
        n = calls if "2048" not in name else max(3, calls // 4)
        wall_loop = _wall_loop(call, n)
        wall, device, overhead = _device(call, n)
        print(f"{name:<28}{_us(wall_loop)} {_us(wall)} {_us(device)} {_us(overhead)}{device / wall:9.2f}")


def _triad(total_bytes: int) -> tuple[Callable[[], Any], int]:
    """A donated, carried triad over f32 arrays touching ``total_bytes`` per call."""
    n = max(1024, total_bytes // 16)
    b = jnp.full((n,), 1.0, jnp.float32)
    c = jnp.full((n,), 0.5, jnp.float32)
    step = jax.jit(lambda a, b, c: 0.5 * a + b + 2.0 * c, donate_argnums=0)
    state = {"a": jnp.zeros((n,), jnp.float32)}

    def call() -> Any:
        state["a"] = step(state["a"], b, c)
        return state["a"]

    jax.block_until_ready(call())
    return call, 16 * n


def part_triads(calls: int, llc: int, flush: CacheFlusher, skip_memory: bool) -> None:
    print(f"\ntriad a = a/2 + b + 2c, donated (16 B per element); cold = {flush.nbytes / 2**20:.0f} MiB flush "
          f"before every call, outside its span; medians of {calls} calls")
    print(f"{'working set':<36}{'mode':<6}{'wall us':>11}{'device us':>11}{'device ps/B':>12}{'GB/s':>8}")
    sizes = [("small (1 MiB)", 1 << 20), ("cache-sized (LLC/4)", llc // 4)]
    if not skip_memory:
        sizes.append(("memory-sized (4 x LLC)", 4 * llc))
    for label, total in sizes:
        call, nbytes = _triad(total)
        for mode in ("hot", "cold"):
            wall, device, _ = _device(call, calls, flush if mode == "cold" else None)
            print(f"{label + f' {nbytes / 2**20:.0f} MiB':<36}{mode:<6}{_us(wall)} {_us(device)}"
                  f"{device / nbytes * 1e12:12.2f}{nbytes / device / 1e9:8.2f}")
        del call


def part_measure_workload(calls: int) -> None:
    print(f"\nthrough measure_workload: 256^2 f32 matmul, timer=device, device_calls={calls} (medians, us)")
    print(f"{'cache':<8}{'time':>11}{'device_time':>13}{'overhead':>11}")
    m = jax.random.normal(jax.random.key(0), (256, 256), jnp.float32)
    for cache in ("hot", "cold"):
        protocol = TimingProtocol(min_rounds=5, min_time=0.0, warmup_time=0.0, timer="device",
                                  device_calls=calls, cache=cache)
        out = measure_workload(Workload(jax.jit(jnp.matmul), args=(m, m)), protocol)
        med = {k: statistics.median(out[k].samples) for k in ("time", "device_time", "dispatch_overhead")}
        print(f"{cache:<8}{_us(med['time'])} {_us(med['device_time'])}  {_us(med['dispatch_overhead'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls per row (device_calls)")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the 4 x LLC triad")
    args = parser.parse_args()

    device = jax.devices()[0]
    llc, source = cache_info(device)
    print(f"device {device} ({device.device_kind}), jax {jax.__version__}, load average {os.getloadavg()}")
    print(f"last-level cache {llc} B ({source})")
    part_ops(args.calls)
    if llc is None:
        print("\nno last-level cache size: triads skipped")
        return
    flush = CacheFlusher(device=device)
    part_triads(max(5, args.calls // 2), llc, flush, args.skip_memory)
    part_measure_workload(max(5, args.calls // 2))
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
