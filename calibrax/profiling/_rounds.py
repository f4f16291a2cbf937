"""The timed rounds of :mod:`calibrax.profiling.timing`: one runner per argument flow.

Each runner is ``run(n) -> ns``: it makes ``n`` calls and returns the nanoseconds they took,
ended by waiting on their outputs (see the timing module's docstring for the modes). The
workload's flow picks the runner: reused arguments, rotated copies, carried state, or calls
timed one by one after their setup or cache flush.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from calibrax.core.errors import BenchmarkError
from calibrax.core.workload import Workload

__all__ = ["Guard", "Mode", "blocker", "device_call", "round_runner"]

Mode = Literal["latency", "throughput"]
Copies = Sequence[tuple[tuple[Any, ...], dict[str, Any]]]


class Guard(Protocol):
    """The compile guard's switch: ``phase="calls"`` counts compiles, ``None`` pauses it."""

    phase: str | None


def blocker(output: Any, workload: Workload) -> tuple[Callable[[Any], Any], str]:
    """The cheapest call that waits for every array in ``output``, and what it waits on.

    A single ``jax.Array`` uses its own ``block_until_ready`` (about 0.4 us cheaper per call
    than walking a pytree); other outputs go through ``jax.block_until_ready``. A plain
    callable whose outputs hold no JAX array is synchronous: nothing to wait on. A jitted one
    with no array output is refused: its timing would be the dispatch alone.
    """
    import jax

    if isinstance(output, jax.Array):
        return type(output).block_until_ready, "outputs"
    if any(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(output)):
        return jax.block_until_ready, "outputs"
    if workload.is_jitted:
        raise BenchmarkError(
            f"The workload's jitted function returned {type(output).__name__} ({output!r:.80}), which holds no "
            "JAX array: there is nothing to wait on, so only its dispatch could be timed. Return the "
            "computed arrays (for example the loss and the new state)."
        )
    return _no_wait, "nothing (the callable returned no JAX array: timed as synchronous)"


def _no_wait(output: Any) -> Any:
    return output


def round_runner(workload: Workload, mode: Mode, block: Callable[[Any], Any], copies: Copies | None,
                 watch: Guard, flush: Callable[[], Any] | None) -> Callable[[int], int]:
    """Return ``run(n) -> ns`` that times one round of ``n`` calls."""
    if workload.flow == "setup" or flush is not None:
        return _per_call_runner(workload, mode, block, copies, watch, flush)
    if workload.flow == "carry":
        return _carry_runner(workload, mode, block)
    if copies is not None:
        return _rotating_runner(workload.fn, copies, mode, block)
    fn, (args, kwargs) = workload.fn, workload.arguments()
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
            for _ in range(n):
                out = fn(*args, **kwargs)
            block(out)  # the last call's outputs: one device runs its calls in order
            return clock() - t0

    return run


def _rotating_runner(fn: Callable[..., Any], copies: Copies,
                     mode: Mode, block: Callable[[Any], Any]) -> Callable[[int], int]:
    """Rounds whose calls cycle through copies of the arguments (``inputs=rotate``)."""
    sets = itertools.cycle(copies)
    clock = time.perf_counter_ns

    def run(n: int) -> int:
        t0 = clock()
        for _ in range(n):
            args, kwargs = next(sets)
            out = fn(*args, **kwargs)
            if mode == "latency":
                block(out)
        block(out)
        return clock() - t0

    return run


def _carry_runner(workload: Workload, mode: Mode, block: Callable[[Any], Any]) -> Callable[[int], int]:
    """Rounds whose calls feed their outputs into the next call (``state = fn(state)``)."""
    fn, advance, kwargs = workload.fn, workload.advance, workload.arguments()[1]
    clock = time.perf_counter_ns
    latency = mode == "latency"

    def run(n: int) -> int:
        args = workload.current_args
        t0 = clock()
        for _ in range(n):
            out = fn(*args, **kwargs)
            if latency:
                block(out)
            args = advance(args, out)
        block(out)  # each call consumes the previous output: the last one ready means all are
        return clock() - t0

    return run


def _per_call_runner(workload: Workload, mode: Mode, block: Callable[[Any], Any],
                     copies: Copies | None,
                     watch: Guard, flush: Callable[[], Any] | None) -> Callable[[int], int]:
    """Rounds whose calls are each timed on their own, after their setup and cache flush.

    The compile guard is paused while setup and flush run (they may compile their own code).
    Throughput mode (setup only; cold caches need latency) builds the round's arguments
    first, then times its calls back to back.
    """
    fn, advance = workload.fn, workload.advance
    sets = itertools.cycle(copies) if copies is not None else None
    clock = time.perf_counter_ns

    def prepare() -> tuple[tuple[Any, ...], Mapping[str, Any]]:
        watch.phase = None
        args, kwargs = next(sets) if sets is not None else workload.arguments()
        if flush is not None:
            flush()
        watch.phase = "calls"
        return args, kwargs

    def run(n: int) -> int:
        total = 0
        for _ in range(n):
            args, kwargs = prepare()
            t0 = clock()
            out = fn(*args, **kwargs)
            block(out)
            total += clock() - t0
            advance(args, out)
        return total

    def run_back_to_back(n: int) -> int:
        prepared = [prepare() for _ in range(n)]
        t0 = clock()
        for args, kwargs in prepared:
            out = fn(*args, **kwargs)
        block(out)
        return clock() - t0

    return run if mode == "latency" else run_back_to_back


def device_call(workload: Workload, copies: Copies | None,
                 calls: int) -> Callable[[], Any]:
    """One call in the workload's flow for the device timer's ``calls`` calls.

    Rotated arguments are cycled; a setup's arguments are all built now, so no setup runs
    inside a recorded call's span; carried state goes through ``workload.call``.
    """
    if workload.flow == "setup":
        ready = [workload.arguments() for _ in range(calls)]

        def call_set_up() -> Any:
            args, kwargs = ready.pop() if ready else workload.arguments()
            return workload.fn(*args, **kwargs)

        return call_set_up
    if copies is None:
        return workload.call
    sets = itertools.cycle(copies)

    def call_rotated() -> Any:
        args, kwargs = next(sets)
        return workload.fn(*args, **kwargs)

    return call_rotated
