"""How much the CPU profilers change the measured time of a ~10 ms case.

In one process and interleaved (A B A B ...), a jitted matmul chain of about 10 ms per call is
timed with the ``standard`` protocol twice per repeat: with timing alone, and with every CPU
profiler on (resources, flops, roofline, compilation, memory, energy, carbon; gpu samples only
with NVML). It prints the median ``time`` of each and their difference. Goal: within 2%.

Run: ``.venv/bin/python benchmarks/meta/profiler_overhead.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp

from calibrax.core import MeasureResult, Workload
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, measure_profiled, resolve_profilers

STANDARD = TimingProtocol()
CPU_PROFILERS = tuple(n for n in resolve_profilers(["all"])[0] if n != "gpu")


def ten_ms_workload() -> Workload:
    """A jitted chain of matmuls sized to take about 10 ms per call here."""
    f = jax.jit(lambda a: jnp.tanh(a @ a) @ a)
    for n in (256, 384, 512, 640, 768, 896, 1024, 1280, 1536):
        x = jnp.ones((n, n), jnp.float32) / n
        f(x).block_until_ready()
        t0 = time.perf_counter()
        for _ in range(3):
            f(x).block_until_ready()
        if (time.perf_counter() - t0) / 3 >= 0.01:
            break
    return Workload(f, args=(x,))


def median_time(workload: Workload, names: tuple[str, ...]) -> tuple[float, dict[str, Any]]:
    into: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {}
    measure_profiled(workload, STANDARD, ProfileContext(options=ProfilingOptions(profilers=names)), into=into, meta=meta)
    return statistics.median(into["time"].samples), meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repetitions (default 7)")
    args = parser.parse_args()
    workload = ten_ms_workload()
    n = workload.args[0].shape[0]
    print(f"jax {jax.__version__}, backend {jax.default_backend()}; case: tanh(x @ x) @ x, x {n}x{n} float32")
    print(f"profilers on: {', '.join(CPU_PROFILERS)}")
    alone, profiled = [], []
    for _ in range(args.repeats):
        alone.append(median_time(workload, ())[0])
        t, meta = median_time(workload, CPU_PROFILERS)
        profiled.append(t)
    a, b = statistics.median(alone), statistics.median(profiled)
    diff = (b / a - 1) * 100
    verdict = "within 2%" if abs(diff) <= 2 else "OUTSIDE 2%"
    print(f"timing alone        {a * 1e3:9.3f} ms   (median of {args.repeats} interleaved repeats)")
    print(f"all CPU profilers   {b * 1e3:9.3f} ms")
    print(f"difference          {diff:+9.2f} %   ({verdict})")
    print(f"unavailable here: {', '.join(sorted(meta.get('unavailable', {})))}")


if __name__ == "__main__":
    main()
