"""False-positive rate and detection power of the CI gate, measured on this machine.

A real jitted workload (a ``fori_loop`` of 64x64 matmul + tanh steps, about 1 ms) is made
slower by a controlled fraction of extra loop steps (3%, 5%, 10%). Every trial is a fresh
process (forked from a server that has imported JAX, so each trial has its own JAX backend,
compilation and memory layout) that times one variant with calibrax's timing loop.

Trials run in palindromic cycles ``A A' s3 s5 s10 s10 s5 s3 A' A`` so that each variant is
interleaved with the baseline ``A`` (``A'`` is the same code, for A/A comparisons). From the
trials:

- interleaved mode: windows of consecutive trials (one per start position), one median per
  trial, 10 per side and 2 more while undecided up to ``--max-trials`` (50, as
  ``conf/ci/interleaved.yaml``), judged by calibrax's verdict with ``conf/thresholds/interleaved.yaml``'s
  1% margin; A/A pairs are judged both ways round;
- stored mode: one trial's samples against another trial's from half a sequence later (two
  separate runs, as a stored baseline is), judged by the same verdict;
- pytest-benchmark's ``--benchmark-compare-fail=median:5%`` rule on those same stored pairs:
  fail when the candidate's median is more than 5% above the baseline's.

Each condition runs on a quiet machine and with a noisy neighbour: a CPU-bound process pinned
to one core for the middle half of the sequence.

Run: ``.venv/bin/python benchmarks/meta/gate_power.py [--cycles 55]`` (about 30 minutes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from calibrax.analysis import GatePolicy, Pair, judge
from calibrax.core import STANDARD_MEASURES, VerdictKind

BASE_STEPS = 200
VARIANTS = {"A": 0.0, "A2": 0.0, "s3": 0.03, "s5": 0.05, "s10": 0.10}
CYCLE = ["A", "A2", "s3", "s5", "s10", "s10", "s5", "s3", "A2", "A"]
UNDECIDED = (VerdictKind.INCONCLUSIVE, VerdictKind.UNSTABLE)


def trial(fraction: float) -> list[float]:
    """Time one variant in this (fresh) process: seconds per call, one sample per round."""
    import jax
    import jax.numpy as jnp

    from calibrax.core import Workload
    from calibrax.profiling import TimingProtocol, measure_workload

    steps = round(BASE_STEPS * (1 + fraction))
    w = jnp.full((64, 64), 0.01, dtype=jnp.float32)

    @jax.jit
    def work(x: jax.Array) -> jax.Array:
        return jax.lax.fori_loop(0, steps, lambda i, v: jnp.tanh(v @ w), x)

    protocol = TimingProtocol(min_rounds=10, min_time=0.1, warmup_time=0.02)
    return list(measure_workload(Workload(work, args=(jnp.ones((64, 64)),)), protocol)["time"].samples)


def _spin(stop_at: float) -> None:
    os.sched_setaffinity(0, {os.cpu_count() - 1})  # type: ignore[operator]
    while time.time() < stop_at:
        pass


def run_sequence(pool: mp.pool.Pool, cycles: int, noisy: bool) -> list[tuple[str, list[float]]]:
    """Trials in palindromic cycles; with ``noisy``, a spinning neighbour in the middle half."""
    order = CYCLE * cycles
    out: list[tuple[str, list[float]]] = []
    neighbour: mp.Process | None = None
    for i, name in enumerate(order):
        if noisy and i == len(order) // 4:
            neighbour = mp.get_context("fork").Process(target=_spin, args=(time.time() + 3600,), daemon=True)
            neighbour.start()
        if neighbour is not None and i == 3 * len(order) // 4:
            neighbour.kill()
            neighbour = None
        out.append((name, pool.apply(trial, (VARIANTS[name],))))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(order)} trials", file=sys.stderr, flush=True)
    if neighbour is not None:
        neighbour.kill()
    return out


def _pair(a: Sequence[float], b: Sequence[float], noise: float | None = None) -> Pair:
    return Pair("gate_power", {}, STANDARD_MEASURES["time"], tuple(a), tuple(b), noise=noise)


def _windows(a: Sequence[float], b: Sequence[float], policy: GatePolicy, max_trials: int) -> tuple[int, int]:
    """(regressed, windows): one comparison per start position, 10 trials per side, 2 more per
    side while undecided, up to ``max_trials`` (as ``ci=interleaved`` does)."""
    size = min(len(a), len(b))
    fails = windows = 0
    for start in range(0, size - max_trials + 1):
        n = 10
        while True:
            [v] = judge([_pair(a[start:start + n], b[start:start + n], noise=0.0)], policy)  # as the gate does
            if v.kind not in UNDECIDED or n >= max_trials:
                break
            n += 2
        fails += v.kind is VerdictKind.REGRESSED
        windows += 1
    return fails, windows


def interleaved_rates(trials: list[tuple[str, list[float]]], variant: str, base: str, policy: GatePolicy,
                      max_trials: int) -> tuple[float, int]:
    """Share of interleaved comparisons judged REGRESSED, and how many comparisons. A/A pairs
    are judged both ways round (A2 against A and A against A2)."""
    a = [statistics.median(s) for n, s in trials if n == base]
    b = [statistics.median(s) for n, s in trials if n == variant]
    fails, windows = _windows(a, b, policy, max_trials)
    if variant == "A2":
        more_fails, more = _windows(b, a, policy, max_trials)
        fails, windows = fails + more_fails, windows + more
    return fails / max(windows, 1), windows


def stored_pairs(trials: list[tuple[str, list[float]]], variant: str, base: str) -> list[tuple[list[float], list[float]]]:
    """(baseline run, candidate run) pairs half a sequence apart."""
    a = [s for n, s in trials if n == base]
    b = [s for n, s in trials if n == variant]
    half = len(a) // 2
    return [(a[i], b[(i + half) % len(b)]) for i in range(len(a))]


def stored_rates(pairs: list[tuple[list[float], list[float]]], policy: GatePolicy) -> tuple[float, float]:
    """Failure share by calibrax's verdict and by pytest-benchmark's median:5% rule."""
    ours = sum(judge([_pair(a, b)], policy)[0].kind is VerdictKind.REGRESSED for a, b in pairs)
    theirs = sum(np.median(b) > 1.05 * np.median(a) for a, b in pairs)
    return ours / len(pairs), theirs / len(pairs)


def report_stored_history(trials: list[tuple[str, list[float]]], policy: GatePolicy, runs: int = 10) -> None:
    """Stored mode with ``ci.history=runs``: each stored baseline trial of :func:`stored_pairs`
    gets the ``runs`` baseline-side trials up to it (itself the last) as its history, so the
    gate compares run medians with the between-run spread learnt from them."""
    from calibrax.analysis.regression import run_level

    base = [s for n, s in trials if n == "A"]
    levels = [run_level(s) for s in base]
    half = len(base) // 2
    print(f"  stored, {runs} runs of history (regressed / comparisons):")
    for variant, title in (("A2", "A/A (false +)"), ("s3", "3% slower"), ("s5", "5% slower"), ("s10", "10% slower")):
        cands = [s for n, s in trials if n == variant]
        pairs = [Pair("gate_power", {}, STANDARD_MEASURES["time"], tuple(base[i]), tuple(cands[(i + half) % len(cands)]),
                      history=tuple(levels[i - runs + 1:i + 1])) for i in range(runs - 1, len(base))]
        fails = sum(judge([p], policy)[0].kind is VerdictKind.REGRESSED for p in pairs)
        print(f"    {title:<16} {fails / max(len(pairs), 1):>8.1%} {f'{fails} / {len(pairs)}':>12}")


def report(label: str, trials: list[tuple[str, list[float]]], policy: GatePolicy, max_trials: int) -> None:
    print(f"\n{label}: {len(trials)} trials")
    print(f"  {'comparison':<16} {'interleaved':>12} {'stored':>10} {'pytest-benchmark':>18} {'comparisons':>12}")
    for variant, title in (("A2", "A/A (false +)"), ("s3", "3% slower"), ("s5", "5% slower"), ("s10", "10% slower")):
        inter, windows = interleaved_rates(trials, variant, "A", policy, max_trials)
        pairs = stored_pairs(trials, variant, "A")
        stored, pytest_rule = stored_rates(pairs, policy)
        print(f"  {title:<16} {inter:>11.1%} {stored:>10.1%} {pytest_rule:>18.1%} {f'{windows} / {len(pairs)}':>12}")
    report_stored_history(trials, policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=55, help="palindromic cycles (2 trials per variant each)")
    parser.add_argument("--margin", type=float, default=0.01, help="the gate's practical margin on time")
    parser.add_argument("--save", help="also write the trials to SAVE.quiet.json and SAVE.noisy.json")
    parser.add_argument("--max-trials", type=int, default=50, help="trials per side at most (ci.max_trials)")
    parser.add_argument("--load", help="report on trials saved with --save under this prefix; measure nothing")
    args = parser.parse_args()
    policy = GatePolicy.from_config({"measures": {"time": {"margin": args.margin, "alpha": 0.01}}})
    if args.load:
        print(f"gate power from saved trials {args.load}.*.json, margin {args.margin:.0%}, alpha 0.01")
        for name, label in (("quiet", "quiet machine"), ("noisy", "noisy neighbour on one core (middle half)")):
            path = Path(f"{args.load}.{name}.json")
            if path.exists():
                report(label, [(n, s) for n, s in json.loads(path.read_text())], policy, args.max_trials)
        return
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["jax", "jax.numpy", "calibrax.profiling"])
    print(f"gate power: {os.cpu_count()} cores, margin {args.margin:.0%}, alpha 0.01, "
          f"{args.cycles} cycles of {CYCLE}")
    for noisy in (False, True):
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            t0 = time.time()
            trials = run_sequence(pool, args.cycles, noisy)
            label = "noisy neighbour on one core (middle half)" if noisy else "quiet machine"
            if args.save:
                Path(f"{args.save}.{'noisy' if noisy else 'quiet'}.json").write_text(json.dumps(trials))
            report(f"{label}, {time.time() - t0:.0f} s", trials, policy, args.max_trials)


if __name__ == "__main__":
    main()
