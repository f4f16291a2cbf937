"""JAX-correct wall-clock timing of a Workload.

The procedure (see shared/REFERENCE.md, "Timing JAX"):

1. For a jitted function, trace, lower and compile are timed apart (one sample each).
2. Warm-up calls until both ``warmup_calls`` and ``warmup_time`` are reached.
3. Calls per round are calibrated in a 1-2-5 sequence until one round lasts at least
   ``min_round_time``, so the timer floor and dispatch jitter stay far below the signal.
4. Rounds are timed until ``min_rounds`` and ``min_time`` are both reached (or ``max_rounds``). Every round ends with ``block_until_ready`` on all outputs: after every call
   in latency mode, on all the round's outputs at its end in throughput mode.

Each ``time`` sample is a round's duration divided by its calls: seconds per call.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from calibrax.core.adapters import Workload
from calibrax.core.errors import ConfigError
from calibrax.core.models import STANDARD_MEASURES, MeasureResult

__all__ = ["TimingProtocol", "calibrate_calls", "measure_workload", "time_stages"]

Mode = Literal["latency", "throughput"]
_NS = 1e-9


@dataclass(frozen=True)
class TimingProtocol:
    """How a workload is timed. ``conf/profile/*.yaml`` sets these fields.

    Attributes:
        mode: ``latency`` blocks after every call; ``throughput`` blocks once per round.
        warmup_calls: at least this many untimed calls before timing.
        warmup_time: and at least this many seconds of them.
        min_round_time: calls per round are raised until a round lasts this long (s).
        min_rounds: at least this many timed rounds (samples).
        max_rounds: at most this many rounds.
        min_time: after ``min_rounds``, keep adding rounds until they total this many seconds.
        disable_gc: switch Python's garbage collector off while rounds run.
    """

    mode: Mode = "latency"
    warmup_calls: int = 1
    warmup_time: float = 0.05
    min_round_time: float = 0.001
    min_rounds: int = 5
    max_rounds: int = 10_000
    min_time: float = 0.2
    disable_gc: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("latency", "throughput"):
            raise ConfigError(
                f"profile.mode must be 'latency' or 'throughput', got {self.mode!r}."
            )
        for name in ("warmup_calls", "min_rounds", "max_rounds"):
            if getattr(self, name) < (0 if name == "warmup_calls" else 1):
                raise ConfigError(f"profile.{name} must be a positive integer, got {getattr(self, name)!r}.")
        if self.max_rounds < self.min_rounds:
            raise ConfigError(
                f"profile.max_rounds ({self.max_rounds}) is below profile.min_rounds "
                f"({self.min_rounds}); raise max_rounds or lower min_rounds."
            )
        for name in ("warmup_time", "min_round_time", "min_time"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"profile.{name} must be a number of seconds >= 0, got {value!r}.")


def time_stages(workload: Workload) -> dict[str, float]:
    """Time ``trace``, ``lower`` and ``compile`` of a jitted workload, in seconds.

    Returns an empty dict for a plain callable. In a fresh process the compile is cold for the
    in-memory caches; the persistent compilation cache, if configured, may still hit.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> sorted(time_stages(Workload(jax.jit(jnp.sin), args=(jnp.ones(4),))))
        ['compile_time', 'lower_time', 'trace_time']
    """
    return _stages(workload)[0]


def _stages(workload: Workload) -> tuple[dict[str, float], Any]:
    """Stage times and the compiled executable (None for a plain callable)."""
    if not workload.is_jitted:
        return {}, None
    clock = time.perf_counter_ns
    t0 = clock()
    traced = workload.fn.trace(*workload.args, **workload.kwargs)  # type: ignore[attr-defined]
    t1 = clock()
    lowered = traced.lower()
    t2 = clock()
    compiled = lowered.compile()
    t3 = clock()
    times = {
        "trace_time": (t1 - t0) * _NS,
        "lower_time": (t2 - t1) * _NS,
        "compile_time": (t3 - t2) * _NS,
    }
    return times, compiled


def _blocker(output: Any) -> Callable[[Any], Any]:
    """The cheapest call that waits for every array in ``output``.

    A single ``jax.Array`` uses its own ``block_until_ready`` (about 0.4 us cheaper per call
    than walking a pytree); anything else goes through ``jax.block_until_ready``.
    """
    import jax

    if isinstance(output, jax.Array):
        return type(output).block_until_ready
    return jax.block_until_ready


def _round_runner(workload: Workload, mode: Mode, block: Callable[[Any], Any]) -> Callable[[int], int]:
    """Return ``run(n) -> ns`` that times one round of ``n`` calls."""
    import jax

    fn, args, kwargs = workload.fn, workload.args, dict(workload.kwargs)
    clock = time.perf_counter_ns
    if mode == "latency" and not kwargs:

        def run(n: int) -> int:
            t0 = clock()
            for _ in range(n):
                block(fn(*args))
            return clock() - t0

    elif mode == "latency":

        def run(n: int) -> int:
            t0 = clock()
            for _ in range(n):
                block(fn(*args, **kwargs))
            return clock() - t0

    else:

        def run(n: int) -> int:
            t0 = clock()
            outs = [fn(*args, **kwargs) for _ in range(n)]
            jax.block_until_ready(outs)
            return clock() - t0

    return run


def calibrate_calls(run: Callable[[int], int], min_round_time: float) -> int:
    """Smallest calls-per-round in the 1, 2, 5, 10, 20, ... sequence reaching ``min_round_time``.

    Like timeit's autorange, but it jumps ahead using the rate just measured.

    Example:
        >>> calibrate_calls(lambda n: n * 300_000, 0.001)  # 0.3 ms per call
        5
    """
    target_ns = min_round_time / _NS
    n = 1
    while True:
        elapsed = run(n)
        if elapsed >= target_ns:
            return n
        per_call = max(elapsed / n, 1.0)
        want = max(n + 1, math.ceil(target_ns / per_call))
        n = _next_125(want)


def _next_125(n: int) -> int:
    """The smallest number of the form {1, 2, 5} x 10^k that is >= n."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= n:
                return step * scale
        scale *= 10


def measure_workload(
    workload: Workload,
    protocol: TimingProtocol,
    into: MutableMapping[str, MeasureResult] | None = None,
    *,
    on_compiled: Callable[[Any], None] | None = None,
    on_rounds: Callable[[], None] | None = None,
) -> dict[str, MeasureResult]:
    """Time a workload: compile stages, then calibrated rounds of calls.

    Measures are written into ``into`` as soon as each is known, so a caller keeps the stage
    times of a workload that fails later. Summaries are left to the statistics layer.
    ``on_compiled(executable)`` is called once with the compiled executable of a jitted
    workload, and ``on_rounds()`` just before the first timed round (profilers hook in there,
    never inside a round).

    Returns:
        ``trace_time``, ``lower_time``, ``compile_time`` (jitted workloads only), ``time``
        (seconds per call, one sample per round) and ``throughput`` (items/s, when the
        workload declares ``items``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> quick = TimingProtocol(min_rounds=3, min_time=0, warmup_time=0)
        >>> out = measure_workload(Workload(jax.jit(jnp.cos), args=(jnp.ones(8),)), quick)
        >>> len(out["time"].samples) >= 3
        True
    """
    out: MutableMapping[str, MeasureResult] = into if into is not None else {}
    stage_times, compiled = _stages(workload)
    for name, seconds in stage_times.items():
        out[name] = MeasureResult(STANDARD_MEASURES[name], (seconds,))
    if on_compiled is not None and compiled is not None:
        on_compiled(compiled)

    first = workload.call()
    block = _blocker(first)
    block(first)
    run = _round_runner(workload, protocol.mode, block)
    warmup_calls = _warm_up(run, protocol)
    calls = calibrate_calls(run, protocol.min_round_time)
    if on_rounds is not None:
        on_rounds()
    samples = _timed_rounds(run, calls, protocol)

    meta = {
        "mode": protocol.mode,
        "calls_per_round": calls,
        "rounds": len(samples),
        "warmup_calls": warmup_calls + 1,
        "gc_disabled": protocol.disable_gc,
    }
    out["time"] = MeasureResult(STANDARD_MEASURES["time"], tuple(samples), meta=meta)
    if workload.items:
        rates = tuple(workload.items / s for s in samples if s > 0)
        out["throughput"] = MeasureResult(
            STANDARD_MEASURES["throughput"], rates, meta={**meta, "items_per_call": workload.items}
        )
    return dict(out)


def _warm_up(run: Callable[[int], int], protocol: TimingProtocol) -> int:
    """Untimed calls until ``warmup_calls`` and ``warmup_time`` are both reached."""
    calls, spent_ns = 0, 0
    target_ns = protocol.warmup_time / _NS
    while calls < protocol.warmup_calls or spent_ns < target_ns:
        spent_ns += run(1)
        calls += 1
    return calls


def _timed_rounds(run: Callable[[int], int], calls: int, protocol: TimingProtocol) -> list[float]:
    """Seconds per call for each round, until the protocol's round and time limits."""
    samples: list[float] = []
    total_ns = 0
    min_ns = protocol.min_time / _NS
    gc_was_enabled = gc.isenabled()
    if protocol.disable_gc:
        gc.collect()
        gc.disable()
    try:
        while len(samples) < protocol.max_rounds:
            elapsed = run(calls)
            total_ns += elapsed
            samples.append(elapsed * _NS / calls)
            if len(samples) >= protocol.min_rounds and total_ns >= min_ns:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples
