"""How close calibrax's per-call time is to a hand-written timing loop.

For a trivial jitted function and a ~1 ms jitted function, in one process and interleaved
(A B A B ...), compare:

- calibrax: ``measure_workload`` with the ``standard`` protocol, median seconds per call;
- hand loop: ``f(x).block_until_ready()`` called N times between two ``perf_counter_ns``
  reads, N chosen so a round lasts about as long as calibrax's; median over rounds.

The goal is agreement within 3%. Run: ``.venv/bin/python benchmarks/meta/overhead.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from calibrax.core import Workload
from calibrax.profiling import TimingProtocol, measure_workload

STANDARD = TimingProtocol()  # the fields of conf/profile/standard.yaml


def hand_loop(f, x, calls: int, rounds: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds per call of ``calls`` back-to-back blocked calls, over ``rounds``."""
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            f(x).block_until_ready()
        per_call.append((time.perf_counter_ns() - t0) * 1e-9 / calls)
    return statistics.median(per_call)


def one_ms_matmul_size() -> int:
    """The square matmul size whose jitted call takes about 1 ms here."""
    for n in (256, 384, 512, 640, 768, 1024):
        f = jax.jit(jnp.matmul)
        x = jnp.ones((n, n))
        f(x, x).block_until_ready()
        t0 = time.perf_counter()
        for _ in range(5):
            f(x, x).block_until_ready()
        if (time.perf_counter() - t0) / 5 >= 1e-3:
            return n
    return 1024


def compare(name: str, f, x, repeats: int) -> None:  # type: ignore[no-untyped-def]
    ours, hand = [], []
    for _ in range(repeats):
        t = measure_workload(Workload(f, args=(x,)), STANDARD)["time"]
        ours.append(statistics.median(t.samples))
        calls, rounds = t.meta["calls_per_round"], t.meta["rounds"]
        hand.append(hand_loop(f, x, calls, rounds))
    a, b = statistics.median(ours), statistics.median(hand)
    diff = (a / b - 1) * 100
    verdict = "within 3%" if abs(diff) <= 3 else "OUTSIDE 3%"
    print(f"{name:<28} calibrax {a * 1e6:10.3f} us   hand loop {b * 1e6:10.3f} us   "
          f"difference {diff:+6.2f}%   ({verdict}; {repeats} interleaved repeats, "
          f"{calls} calls x {rounds} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repetitions (default 7)")
    args = parser.parse_args()
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, device {jax.devices()[0].device_kind}")
    trivial = jax.jit(lambda v: v + 1)
    compare("trivial jitted (x + 1)", trivial, jnp.ones(8), args.repeats)
    n = one_ms_matmul_size()
    matmul = jax.jit(lambda v: v @ v)
    compare(f"~1 ms jitted ({n}x{n} matmul)", matmul, jnp.ones((n, n)), args.repeats)


if __name__ == "__main__":
    main()
