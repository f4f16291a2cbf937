"""False-alarm rate, detection power and time to a verdict of the CI gate, measured on this machine.

A real jitted workload (a ``fori_loop`` of 3000 64x64 matmul + tanh steps, about 30 ms on a
quiet 2-core machine: 1000 steps took 10 ms here when quiet, 20 to 100 ms under load) is made
slower by a controlled fraction of extra loop steps (3%, 5%, 10%).
Every trial is a fresh process forked from a server that has imported JAX and calibrax's timing
code (as the ``ci=interleaved`` gate forks its trials), so each trial has its own JAX backend,
compilation and memory layout; it times one variant with calibrax's timing loop, for as many
rounds as the gate would choose from the noise and the fixed cost of a first trial
(``rounds_for_precision``, ``trial_rounds``).

Trials run in palindromic cycles ``A A' s3 s5 s10 s10 s5 s3 A' A`` so that each variant is
interleaved with the baseline ``A`` (``A'`` is the same code, for A/A comparisons). From the
trials, one row per comparison and one column per gate (``COLUMNS``; a column is a function of
the trials of the baseline and the candidate):

- interleaved: calibrax's sequential gate (``run_interleaved``) with its default
  ``ci.trial_statistic=best`` (each trial judged by its best round), replayed on the trials, one
  comparison per start position, the k-th baseline trial paired with the k-th candidate trial;
  its time to a verdict is the wall time of the trials it used, both sides (not the fork
  servers' start, once per side). A/A comparisons
  are ``A'`` against ``A`` and each variant's first trial in a cycle against its second (the
  same code), each both ways round; they reuse trials, so they are not independent;
- interleaved/median: the same with ``ci.trial_statistic=median``;
- stored (no history): one trial's samples against another trial's from half a sequence later
  (two separate runs, as a stored baseline is), judged by calibrax's verdict; its time to a
  verdict is the candidate's one trial;
- stored+history: the same pairs, each baseline trial with the ``--history`` (10) baseline-side
  trials up to it as its history (``ci.history``), judged on run medians with the between-run
  spread learnt from them;
- pytest-benchmark's ``--benchmark-compare-fail=median:5%`` rule on those same stored pairs.

Each condition runs on a quiet machine and with a noisy neighbour: a CPU-bound process pinned
to one core for the middle half of the sequence.

Run: ``.venv/bin/python benchmarks/meta/gate_power.py [--cycles 50] [--save PREFIX]`` (about
2 s per trial here: 10 trials per cycle, quiet and noisy); ``--load PREFIX`` reports on saved
trials without measuring (with ``--beta 0.01``, say, to see what the pass side's rate costs).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibrax.analysis import GatePolicy, Pair, judge
from calibrax.ci import (
    TRIAL_PRECISION,
    TRIAL_ROUNDS,
    CaseRef,
    TrialStatistic,
    rounds_for_precision,
    run_interleaved,
    trial_rounds,
    trial_value,
)
from calibrax.core import STANDARD_MEASURES, VerdictKind

BASE_STEPS = 3000
VARIANTS = {"A": 0.0, "A2": 0.0, "s3": 0.03, "s5": 0.05, "s10": 0.10}
CYCLE = ["A", "A2", "s3", "s5", "s10", "s10", "s5", "s3", "A2", "A"]
COMPARISONS = (("A2", "A/A (false +)"), ("s3", "3% slower"), ("s5", "5% slower"), ("s10", "10% slower"))
TIME = STANDARD_MEASURES["time"]


@dataclass(frozen=True)
class Trial:
    """One trial: its variant, its round samples (seconds per call) and its wall time."""

    name: str
    samples: list[float]
    seconds: float


def trial(fraction: float, rounds: int) -> list[float]:
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

    protocol = TimingProtocol(min_rounds=rounds, max_rounds=rounds, min_time=0.0, warmup_time=0.02)
    return list(measure_workload(Workload(work, args=(jnp.ones((64, 64)),)), protocol)["time"].samples)


def _spin(stop_at: float) -> None:
    os.sched_setaffinity(0, {os.cpu_count() - 1})  # type: ignore[operator]
    while time.time() < stop_at:
        pass


def _write(path: Path | None, trials: Sequence[Trial]) -> None:
    if path is not None:
        path.write_text(json.dumps([[t.name, t.samples, t.seconds] for t in trials]))


def run_sequence(pool: mp.pool.Pool, cycles: int, noisy: bool, rounds: int, save: Path | None = None) -> list[Trial]:
    """Trials in palindromic cycles; with ``noisy``, a spinning neighbour in the middle half.
    With ``save``, the trials so far are written there after every cycle."""
    order = CYCLE * cycles
    out: list[Trial] = []
    neighbour: mp.Process | None = None
    for i, name in enumerate(order):
        if noisy and i == len(order) // 4:
            neighbour = mp.get_context("fork").Process(target=_spin, args=(time.time() + 3600,), daemon=True)
            neighbour.start()
        if neighbour is not None and i == 3 * len(order) // 4:
            neighbour.kill()
            neighbour = None
        t0 = time.monotonic()
        samples = pool.apply(trial, (VARIANTS[name], rounds))
        out.append(Trial(name, samples, time.monotonic() - t0))
        if (i + 1) % len(CYCLE) == 0:
            _write(save, out)
            print(f"  {i + 1}/{len(order)} trials", file=sys.stderr, flush=True)
    if neighbour is not None:
        neighbour.kill()
    return out


@dataclass(frozen=True)
class Outcome:
    """What one gate made of some comparisons: how many failed, and each one's time to a verdict."""

    failed: int
    comparisons: int
    seconds: list[float]


def _replay(a: Sequence[Trial], b: Sequence[Trial], policy: GatePolicy, trials: int, max_trials: int,
            statistic: TrialStatistic) -> tuple[bool, float]:
    """The sequential gate on trials already measured: the k-th call for a side gets its k-th trial."""
    used = {"A": 0, "B": 0}
    seconds = 0.0

    def measure(arm: str, cases: Sequence[CaseRef]) -> dict[str, dict[str, float]]:
        nonlocal seconds
        t = (a if arm == "A" else b)[used[arm]]
        used[arm] += 1
        seconds += t.seconds
        return {c.key: {"time": trial_value(t.samples, TIME.direction, statistic)} for c in cases}

    [v] = run_interleaved(measure, [CaseRef("k", "gate_power", {}, (TIME,))], policy, trials=trials,
                          max_trials=max_trials, statistic=statistic).verdicts
    return v.kind is VerdictKind.REGRESSED, seconds


def interleaved(base: Sequence[Trial], cand: Sequence[Trial], policy: GatePolicy, args: argparse.Namespace,
                statistic: TrialStatistic = TrialStatistic.best) -> Outcome:
    """One sequential comparison per start position with ``max_trials`` trials left per side."""
    size = min(len(base), len(cand))
    fails, seconds = 0, []
    for start in range(0, size - args.max_trials + 1):
        failed, took = _replay(base[start:], cand[start:], policy, args.trials, args.max_trials, statistic)
        fails += failed
        seconds.append(took)
    return Outcome(fails, len(seconds), seconds)


def _stored_pairs(base: Sequence[Trial], cand: Sequence[Trial]) -> list[tuple[Trial, Trial]]:
    """(baseline run, candidate run) pairs half a sequence apart."""
    half = len(base) // 2
    return [(base[i], cand[(i + half) % len(cand)]) for i in range(len(base))]


def stored(base: Sequence[Trial], cand: Sequence[Trial], policy: GatePolicy, args: argparse.Namespace) -> Outcome:
    """calibrax's stored verdict, one run against another, without history."""
    pairs = _stored_pairs(base, cand)
    fails = sum(judge([Pair("gate_power", {}, TIME, tuple(a.samples), tuple(b.samples))], policy)[0].kind
                is VerdictKind.REGRESSED for a, b in pairs)
    return Outcome(fails, len(pairs), [b.seconds for _, b in pairs])


def stored_history(base: Sequence[Trial], cand: Sequence[Trial], policy: GatePolicy, args: argparse.Namespace) -> Outcome:
    """The stored verdict with ``ci.history=args.history``: each stored baseline trial of
    :func:`_stored_pairs` gets the ``args.history`` baseline-side trials up to it (itself the last)
    as its history, so the gate compares run medians with the between-run spread learnt from them."""
    from calibrax.analysis.regression import run_level

    runs = args.history
    levels = [run_level(t.samples) for t in base]
    pairs = _stored_pairs(base, cand)
    fails, seconds = 0, []
    for i in range(runs - 1, len(pairs)):
        a, b = pairs[i]
        pair = Pair("gate_power", {}, TIME, tuple(a.samples), tuple(b.samples), history=tuple(levels[i - runs + 1:i + 1]))
        fails += judge([pair], policy)[0].kind is VerdictKind.REGRESSED
        seconds.append(b.seconds)
    return Outcome(fails, len(seconds), seconds)


def pytest_benchmark(base: Sequence[Trial], cand: Sequence[Trial], policy: GatePolicy, args: argparse.Namespace) -> Outcome:
    """pytest-benchmark's ``median:5%`` rule on the stored pairs."""
    pairs = _stored_pairs(base, cand)
    fails = sum(bool(np.median(b.samples) > 1.05 * np.median(a.samples)) for a, b in pairs)
    return Outcome(fails, len(pairs), [b.seconds for _, b in pairs])


Column = Callable[[Sequence[Trial], Sequence[Trial], GatePolicy, argparse.Namespace], Outcome]
COLUMNS: dict[str, Column] = {
    "interleaved": interleaved,
    "interleaved/median": lambda base, cand, policy, args: interleaved(base, cand, policy, args, TrialStatistic.median),
    "stored": stored, "stored+history": stored_history, "pytest-benchmark": pytest_benchmark}
"""One column per gate; a further gate is one more entry."""


def same_code_pairs(trials: Sequence[Trial]) -> list[tuple[list[Trial], list[Trial]]]:
    """The A/A sequences: ``A'`` against ``A``, and each variant's first occurrence in a cycle
    against its second (the same code, measured in the same cycles), each both ways round.

    A variant's first occurrence always runs early in a cycle and its second late, so the two
    swap sides from one cycle to the next, as the gate's ABBA order swaps them (``A'`` and
    ``A`` already do: ``A A'`` opens a cycle, ``A' A`` closes it).
    """
    firsts: dict[str, list[Trial]] = {}
    seconds: dict[str, list[Trial]] = {}
    for i, t in enumerate(trials):
        position = i % len(CYCLE)
        (firsts if CYCLE.index(t.name) == position else seconds).setdefault(t.name, []).append(t)
    a = [t for t in trials if t.name == "A"]
    a2 = [t for t in trials if t.name == "A2"]
    out = [(a, a2), (a2, a)]
    for name in VARIANTS:
        pairs = list(zip(firsts.get(name, []), seconds.get(name, []), strict=False))
        one = [p[k % 2] for k, p in enumerate(pairs)]
        other = [p[1 - k % 2] for k, p in enumerate(pairs)]
        out += [(one, other), (other, one)]
    return out


def outcome(trials: Sequence[Trial], variant: str, column: Column, policy: GatePolicy, args: argparse.Namespace) -> Outcome:
    """A column's outcome for ``variant`` against ``A``; for ``A2``, every A/A sequence of
    :func:`same_code_pairs` together."""
    if variant != "A2":
        return column([t for t in trials if t.name == "A"], [t for t in trials if t.name == variant], policy, args)
    parts = [column(base, cand, policy, args) for base, cand in same_code_pairs(trials)]
    return Outcome(sum(p.failed for p in parts), sum(p.comparisons for p in parts), [s for p in parts for s in p.seconds])


def _cell(o: Outcome) -> str:
    return f"{o.failed / max(o.comparisons, 1):.1%} ({o.comparisons})"


def report(label: str, trials: Sequence[Trial], policy: GatePolicy, args: argparse.Namespace) -> None:
    """A table per condition: per comparison, each column's failure share (comparisons), then each
    column's median and 90th-percentile time to a verdict over all its comparisons."""
    print(f"\n{label}: {len(trials)} trials, median trial {statistics.median(t.seconds for t in trials):.2f} s")
    print(f"  {'comparison':<16}" + "".join(f" {name:>18}" for name in COLUMNS))
    times: dict[str, list[float]] = {name: [] for name in COLUMNS}
    for variant, title in COMPARISONS:
        cells = []
        for name, column in COLUMNS.items():
            o = outcome(trials, variant, column, policy, args)
            times[name] += o.seconds
            cells.append(_cell(o))
        print(f"  {title:<16}" + "".join(f" {c:>18}" for c in cells))
    for q, title in ((50, "median time (s)"), (90, "p90 time (s)")):
        print(f"  {title:<16}" + "".join(f" {np.percentile(times[n], q) if times[n] else math.nan:>18.1f}"
                                         for n in COLUMNS))


def _load(path: Path) -> list[Trial]:
    return [Trial(*t) if len(t) == 3 else Trial(t[0], t[1], float("nan")) for t in json.loads(path.read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=18, help="palindromic cycles (2 trials per variant each)")
    parser.add_argument("--margin", type=float, default=0.01, help="the gate's practical margin on time")
    parser.add_argument("--trials", type=int, default=6, help="trials per side before the first look (ci.trials)")
    parser.add_argument("--max-trials", type=int, default=30, help="trials per side at most (ci.max_trials)")
    parser.add_argument("--beta", type=float, default=0.1,
                        help="the gate's chance of passing a change at the margin (thresholds.measures.time.beta)")
    parser.add_argument("--history", type=int, default=10, help="runs of history for the stored+history column (ci.history)")
    parser.add_argument("--save", help="also write the trials to SAVE.quiet.json and SAVE.noisy.json")
    parser.add_argument("--load", help="report on trials saved with --save under this prefix; measure nothing")
    args = parser.parse_args()
    policy = GatePolicy.from_config({"measures": {"time": {"margin": args.margin, "alpha": 0.01, "beta": args.beta}}})
    head = f"margin {args.margin:.0%}, alpha 0.01, beta {args.beta:g}, {args.trials} to {args.max_trials} trials per side"
    if args.load:
        print(f"gate power from saved trials {args.load}.*.json, {head}")
        for name, label in (("quiet", "quiet machine"), ("noisy", "noisy neighbour on one core (middle half)")):
            path = Path(f"{args.load}.{name}.json")
            if path.exists():
                report(label, _load(path), policy, args)
        return
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["jax", "jax.numpy", "calibrax.profiling"])
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        pool.apply(os.getpid)  # the server's own start is not a trial's cost
        t0 = time.monotonic()
        first = pool.apply(trial, (0.0, 10))
        fixed = time.monotonic() - t0 - sum(first)  # one call per round at ~30 ms
    rounds = trial_rounds(rounds_for_precision(first, TRIAL_PRECISION, *TRIAL_ROUNDS), fixed, statistics.median(first))
    print(f"gate power: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {head}, {rounds} rounds "
          f"per trial (first trial's noise and its fixed cost, {fixed:.2f} s), {args.cycles} cycles of {CYCLE}")
    for noisy in (False, True):
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            t0 = time.time()
            path = Path(f"{args.save}.{'noisy' if noisy else 'quiet'}.json") if args.save else None
            trials = run_sequence(pool, args.cycles, noisy, rounds, path)
            label = "noisy neighbour on one core (middle half)" if noisy else "quiet machine"
            report(f"{label}, {time.time() - t0:.0f} s, load average {os.getloadavg()[0]:.1f}", trials, policy, args)


if __name__ == "__main__":
    main()
