"""JAX-correct wall-clock timing of a Workload.

The procedure (see shared/REFERENCE.md, "Timing JAX", and README "How a case is timed"):

1. Inputs: a jitted workload's NumPy arrays and Python scalars (not its static arguments) are
   put on the device once, and every argument is waited for before anything is timed.
2. For a jitted function, trace, lower and compile are timed apart (one sample each);
   ``compile_time``'s meta says whether the compile was real or a cache hit. A function that
   donates arguments (``donate_argnums``) must carry them or build them with ``setup``;
   otherwise a BenchmarkError stops the case before its first call.
3. Warm-up calls until both ``warmup_calls`` and ``warmup_time`` are reached.
4. Calls per round are calibrated in a 1-2-5 sequence until one round lasts at least
   ``min_round_time``, so the timer floor and dispatch jitter stay far below the signal.
5. Rounds are timed until ``min_rounds`` and ``min_time`` are both reached (or
   ``max_rounds``). Latency mode blocks on every call's outputs; throughput mode runs the
   round's calls back to back and blocks on the last call's outputs only. JAX runs the
   computations of one device in the order they were launched (XLA:CPU too: a large matmul
   launched before a tiny add is ready when the add is), so the last output being ready means
   the round's calls are done, and no list of the round's outputs is kept. With ``setup`` or
   ``cache=cold`` each call is timed on its own, its setup or cache flush outside its span.
6. Recompilation guard: a backend compile of the case after its first call (warm-up,
   calibration, rounds; small eager helpers such as ``jit(broadcast_in_dim)`` aside) is a
   BenchmarkError unless ``allow_recompile``: the samples would hold compile time.
7. ``timer=device|cupti``: after the wall rounds, ``device_calls`` more calls give
   ``device_time`` and ``dispatch_overhead`` (``calibrax.profiling.devicetime``).

Each ``time`` sample is a round's timed nanoseconds divided by its calls: seconds per call.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import STANDARD_MEASURES, MeasureResult
from calibrax.core.workload import Workload
from calibrax.profiling._rounds import Mode, blocker, device_call, round_runner

__all__ = ["TimingProtocol", "calibrate_calls", "measure_workload", "time_stages"]

Timer = Literal["wall", "device", "cupti"]
Cache = Literal["hot", "cold"]
Inputs = Literal["reuse", "rotate"]
_NS = 1e-9
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "mode": ("latency", "throughput"),
    "timer": ("wall", "device", "cupti"),
    "cache": ("hot", "cold"),
    "inputs": ("reuse", "rotate"),
}
_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
_PERSISTENT_HIT = "/jax/compilation_cache/cache_hits"
_DONATED = "has been deleted or donated"  # XLA's message when a donated buffer is used again


@dataclass(frozen=True)
class TimingProtocol:
    """How a workload is timed. ``conf/profile/*.yaml`` sets these fields (by name).

    Attributes:
        mode: ``latency`` blocks after every call; ``throughput`` blocks once per round.
        warmup_calls: at least this many untimed calls before timing.
        warmup_time: and at least this many seconds of them.
        min_round_time: calls per round are raised until a round lasts this long (s).
        min_rounds: at least this many timed rounds (samples).
        max_rounds: at most this many rounds.
        min_time: after ``min_rounds``, keep adding rounds until they total this many seconds.
        disable_gc: switch Python's garbage collector off while rounds run.
        timer: ``wall`` (perf_counter around calls), or also ``device`` (a jax.profiler trace
            of ``device_calls`` calls) or ``cupti`` (NVIDIA kernel times) after the rounds.
        device_calls: calls the device or CUPTI timer records (samples of ``device_time``).
        cache: ``hot`` (calls back to back) or ``cold`` (a cache flush before every timed
            call, outside its span; latency mode only).
        inputs: ``reuse`` the same arguments, or ``rotate`` through copies of them larger in
            total than the last-level cache (workloads that reuse their arguments only).
        allow_recompile: keep a case that compiles during its timed calls instead of failing
            it (the benchmark YAML's ``allow_recompile``).

    Example:
        >>> TimingProtocol(timer="device", cache="cold").device_calls
        10
    """

    mode: Mode = "latency"
    warmup_calls: int = 1
    warmup_time: float = 0.05
    min_round_time: float = 0.001
    min_rounds: int = 5
    max_rounds: int = 10_000
    min_time: float = 0.2
    disable_gc: bool = True
    timer: Timer = "wall"
    device_calls: int = 10
    cache: Cache = "hot"
    inputs: Inputs = "reuse"
    allow_recompile: bool = False

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            value = getattr(value, "value", value)  # the config schema's str Enums
            if value not in allowed:
                raise ConfigError(
                    f"profile.{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}."
                )
            object.__setattr__(self, name, str(value))
        for name in ("warmup_calls", "min_rounds", "max_rounds", "device_calls"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (name != "warmup_calls"):
                low = "0" if name == "warmup_calls" else "1"
                raise ConfigError(f"profile.{name} must be a positive integer (>= {low}), got {value!r}.")
        if self.max_rounds < self.min_rounds:
            raise ConfigError(
                f"profile.max_rounds ({self.max_rounds}) is below profile.min_rounds "
                f"({self.min_rounds}); raise max_rounds or lower min_rounds."
            )
        for name in ("warmup_time", "min_round_time", "min_time"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"profile.{name} must be a number of seconds >= 0, got {value!r}.")
        if not isinstance(self.allow_recompile, bool):
            raise ConfigError(
                f"allow_recompile (a benchmark YAML key) must be true or false; got {self.allow_recompile!r}."
            )
        if self.cache == "cold" and self.mode == "throughput":
            raise ConfigError(
                "profile.cache='cold' flushes the caches before every timed call, so each call is timed on "
                "its own; that is latency mode. Use profile.mode=latency with it, or profile.cache=hot."
            )


def time_stages(workload: Workload) -> dict[str, float]:
    """Time ``trace``, ``lower`` and ``compile`` of a jitted workload, in seconds.

    Returns an empty dict for a plain callable. In a fresh process the compile is cold for the
    in-memory caches; the persistent compilation cache, if configured, may still hit.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> sorted(time_stages(Workload(jax.jit(jnp.sin), args=(jnp.ones(4),))))
        ['compile_time', 'lower_time', 'trace_time']
    """
    args, kwargs = workload.arguments()
    return _stages(workload, args, kwargs, None)[0]


def _stages(workload: Workload, args: tuple[Any, ...], kwargs: Mapping[str, Any],
            watch: _CompileWatch | None) -> tuple[dict[str, float], Any, Any]:
    """Stage times, the compiled executable and the traced function (None, None: plain callable)."""
    if not workload.is_jitted:
        return {}, None, None
    clock = time.perf_counter_ns
    t0 = clock()
    traced = workload.fn.trace(*args, **kwargs)  # type: ignore[attr-defined]
    t1 = clock()
    lowered = traced.lower()
    if watch is not None:
        watch.phase = "stage"
    t2 = clock()
    compiled = lowered.compile()
    t3 = clock()
    if watch is not None:
        watch.phase = None
    times = {
        "trace_time": (t1 - t0) * _NS,
        "lower_time": (t2 - t1) * _NS,
        "compile_time": (t3 - t2) * _NS,
    }
    return times, compiled, traced


class _CompileWatch:
    """Backend compiles and persistent-cache hits, read from ``jax.monitoring`` while open.

    ``phase="stage"`` counts the stage compile; ``phase="calls"`` counts compiles of the case's
    calls (its own function always; other functions unless they are eager helpers).
    """

    def __init__(self, own: str | None) -> None:
        from calibrax.profiling.compilation import EAGER_HELPERS

        self.own, self.helpers = own, EAGER_HELPERS
        self.phase: str | None = None
        self.stage_compiles = self.stage_hits = 0
        self.recompiled: list[str] = []

    def __enter__(self) -> _CompileWatch:
        import jax.monitoring

        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        jax.monitoring.register_event_listener(self._on_event)
        return self

    def __exit__(self, *exc: object) -> None:
        import jax.monitoring

        jax.monitoring.unregister_event_duration_listener(self._on_duration)
        jax.monitoring.unregister_event_listener(self._on_event)

    def _on_duration(self, event: str, duration_secs: float, **kwargs: Any) -> None:
        if event != _BACKEND_COMPILE or self.phase is None:
            return
        name = str(kwargs.get("fun_name", "?"))
        if self.phase == "stage":
            self.stage_compiles += 1
        elif name == self.own or name.removeprefix("jit(").removesuffix(")") not in self.helpers:
            self.recompiled.append(name)

    def _on_event(self, event: str, **kwargs: Any) -> None:
        if event == _PERSISTENT_HIT and self.phase == "stage":
            self.stage_hits += 1

    def stage_cache(self) -> str:
        """``compiled``, ``persistent_cache_hit`` or ``in_memory_cache_hit`` for the stage compile.

        JAX reports its backend-compile event around the persistent-cache lookup too, so a
        cache-hit event decides first; no event at all is a hit in the in-memory cache.
        """
        if self.stage_hits:
            return "persistent_cache_hit"
        return "compiled" if self.stage_compiles else "in_memory_cache_hit"


def _donation(workload: Workload, args: tuple[Any, ...], traced: Any) -> tuple[list[int], list[str]]:
    """Positional indices and keyword names of the arguments the jitted function donates."""
    if traced is None:
        return [], []
    import jax

    positional, keywords = traced.args_info

    def donated(info: Any) -> bool:
        return any(getattr(leaf, "donated", False)
                   for leaf in jax.tree.leaves(info, is_leaf=lambda x: hasattr(x, "donated")))

    static = workload.static_positions()
    dynamic = [i for i in range(len(args)) if i not in static]
    if len(dynamic) != len(positional):
        dynamic = list(range(len(positional)))
    return ([dynamic[j] for j, info in enumerate(positional) if donated(info)],
            sorted(k for k, info in keywords.items() if donated(info)))


def _check_donation(workload: Workload, donated_args: list[int], donated_kwargs: list[str]) -> None:
    """Donated arguments must be carried or set up afresh, or the second call fails."""
    if not (donated_args or donated_kwargs) or workload.flow == "setup":
        return
    carried = {arg for _, arg in workload.carried}
    lost = [f"argument {i}" for i in donated_args if i not in carried] + [f"keyword {k!r}" for k in donated_kwargs]
    if not lost:
        return
    how = ("reuses its arguments" if workload.flow == "reuse"
           else f"carries only into argument(s) {sorted(carried)} (carry={workload.carry!r})")
    raise BenchmarkError(
        f"The workload's jitted function donates {', '.join(lost)} (donate_argnums/donate_argnames), but the "
        f"Workload {how}: the next call would get a deleted buffer ('Buffer has been deleted or donated'). "
        "Fix it one of two ways: carry the output into the next call, Workload(step, args=(state,), "
        "carry=True) for state = step(state) (carry=(1,) when step returns (loss, new_state)); or build "
        "fresh arguments before every call, outside the timed span, Workload(step, setup=lambda: "
        "((make_state(),), {})). from_train_step does the first for you."
    )


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


def _cold_and_rotated(workload: Workload, protocol: TimingProtocol,
                      meta: dict[str, Any]) -> tuple[Any, list[tuple[tuple[Any, ...], dict[str, Any]]] | None]:
    """The cache flusher (``cache=cold``) and argument copies (``inputs=rotate``) this case uses."""
    flush = copies = None
    if protocol.cache == "cold":
        from calibrax.profiling.cache import CacheFlusher

        flush = CacheFlusher()
        meta["flush"] = {"bytes": flush.nbytes, "source": flush.source, "module": flush.module_name}
    if protocol.inputs == "rotate" and workload.flow != "reuse":
        meta["inputs"] = workload.flow
        meta["rotate_skipped"] = (f"the workload builds each call's arguments ({workload.flow}), so there is no "
                                  "fixed argument set to copy")
    elif protocol.inputs == "rotate":
        from calibrax.profiling.cache import cache_info, rotated_args

        size, source = cache_info()
        if size is None:
            raise ConfigError(f"profile.inputs=rotate needs the last-level cache size, but {source}; use "
                              "profile.inputs=reuse here.")
        args, kwargs = workload.arguments()
        copies = rotated_args(args, kwargs, size)
        meta["rotate"] = {"copies": len(copies), "cache_bytes": size, "source": source}
    return flush, copies


def measure_workload(
    workload: Workload,
    protocol: TimingProtocol,
    into: MutableMapping[str, MeasureResult] | None = None,
    *,
    on_compiled: Callable[[Any], None] | None = None,
    on_rounds: Callable[[], None] | None = None,
    on_rounds_end: Callable[[], None] | None = None,
) -> dict[str, MeasureResult]:
    """Time a workload: inputs placed, compile stages, then calibrated rounds of calls.

    Measures are written into ``into`` as soon as each is known, so a caller keeps the stage
    times of a workload that fails later (and the ``time`` samples of a case that fails the
    recompilation guard). Summaries are left to the statistics layer. ``on_compiled(executable)``
    is called once with the compiled executable of a jitted workload, ``on_rounds()`` just
    before the first timed round and ``on_rounds_end()`` right after the last one, before the
    device timer's calls (profilers hook in there, never inside a round).

    Returns:
        ``trace_time``, ``lower_time``, ``compile_time`` (jitted workloads only), ``time``
        (seconds per call, one sample per round), ``throughput`` (items/s, when the workload
        declares ``items``), and ``device_time`` and ``dispatch_overhead`` with
        ``timer=device|cupti``.

    Raises:
        BenchmarkError: the function donates arguments the workload neither carries nor sets
            up; a jitted function returned no array; the case compiled during its timed calls
            (unless ``protocol.allow_recompile``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> quick = TimingProtocol(min_rounds=3, min_time=0, warmup_time=0)
        >>> out = measure_workload(Workload(jax.jit(jnp.cos), args=(jnp.ones(8),)), quick)
        >>> len(out["time"].samples) >= 3, out["time"].meta["recompilations"]
        (True, 0)
    """
    out: MutableMapping[str, MeasureResult] = into if into is not None else {}
    meta: dict[str, Any] = {"mode": protocol.mode, "flow": workload.flow, "placed_on_device": workload.prepare_inputs()}
    try:
        with _CompileWatch(None) as watch:
            plan = _prepare(workload, protocol, out, meta, watch, on_compiled)
            warmup_calls = _warm_up(plan.run, protocol)
            calls = calibrate_calls(plan.run, protocol.min_round_time)
            if on_rounds is not None:
                watch.phase = None  # a profiler's start is not the case's work
                on_rounds()
                watch.phase = "calls"
            samples = _timed_rounds(plan.run, calls, protocol)
            watch.phase = None
    except Exception as exc:
        if _DONATED in str(exc) and not isinstance(exc, BenchmarkError):
            raise BenchmarkError(f"A call used a donated buffer again ({type(exc).__name__}: {str(exc)[:200]}). "
                                 "The workload must carry its donated state (carry=) or rebuild it before every "
                                 "call (setup=); see README 'How a case is timed'.") from exc
        raise
    if on_rounds_end is not None:
        on_rounds_end()
    meta.update(calls_per_round=calls, rounds=len(samples), warmup_calls=warmup_calls + 1,
                gc_disabled=protocol.disable_gc, recompilations=len(watch.recompiled),
                allow_recompile=protocol.allow_recompile)
    if watch.recompiled:
        meta["recompiled"] = sorted(set(watch.recompiled))
    out["time"] = MeasureResult(STANDARD_MEASURES["time"], tuple(samples), meta=meta)
    if watch.recompiled and not protocol.allow_recompile:
        raise BenchmarkError(_recompile_message(watch.recompiled))
    if workload.items:
        rates = tuple(workload.items / s for s in samples if s > 0)
        rate = STANDARD_MEASURES["throughput"]
        if workload.items_unit != "items":
            rate = replace(rate, unit=f"{workload.items_unit}/s", description=f"{workload.items_unit} processed per second")
        out["throughput"] = MeasureResult(
            rate, rates, meta={**meta, "items_per_call": workload.items, "items_unit": workload.items_unit}
        )
    if protocol.timer != "wall":
        from calibrax.profiling.devicetime import device_measures

        call = device_call(workload, plan.copies, protocol.device_calls + 1)
        out.update(device_measures(call, plan.block, protocol, flush=plan.flush))
    return dict(out)


class _Plan(NamedTuple):
    """What the rounds and the device timer use: ``run(n) -> ns``, the blocker, the argument
    copies (``inputs=rotate``) and the cache flusher (``cache=cold``)."""

    run: Callable[[int], int]
    block: Callable[[Any], Any]
    copies: list[tuple[tuple[Any, ...], dict[str, Any]]] | None
    flush: Any


def _prepare(workload: Workload, protocol: TimingProtocol, out: MutableMapping[str, MeasureResult],
             meta: dict[str, Any], watch: _CompileWatch,
             on_compiled: Callable[[Any], None] | None) -> _Plan:
    """Stages, donation check, the first call, then the round runner (the guard armed)."""
    args, kwargs = workload.arguments()
    stage_times, compiled, traced = _stages(workload, args, kwargs, watch)
    for name, seconds in stage_times.items():
        stage_meta = {"cache": watch.stage_cache()} if name == "compile_time" else {}
        out[name] = MeasureResult(STANDARD_MEASURES[name], (seconds,), meta=stage_meta)
    if on_compiled is not None and compiled is not None:
        on_compiled(compiled)
    donated_args, donated_kwargs = _donation(workload, args, traced)
    meta.update(donated_args=donated_args, donated_kwargs=donated_kwargs,
                carry=[f"{'out' if o < 0 else f'out[{o}]'} -> args[{a}]" for o, a in workload.carried] or None)
    _check_donation(workload, donated_args, donated_kwargs)
    if traced is not None:
        watch.own = f"jit({traced.fun_name})"
    first = workload.fn(*args, **kwargs)
    workload.advance(args, first)
    block, waits_on = blocker(first, workload)
    block(first)
    del first
    meta.update(waits_on=waits_on, cache=protocol.cache, inputs=protocol.inputs, timer=protocol.timer)
    flush, copies = _cold_and_rotated(workload, protocol, meta)
    watch.phase = "calls"  # from here on, a compile of the case is a recompilation
    run = round_runner(workload, protocol.mode, block, copies, watch, flush)
    return _Plan(run, block, copies, flush)


def _recompile_message(names: Sequence[str]) -> str:
    counts = ", ".join(f"{name} x{n}" for name, n in sorted({n: names.count(n) for n in names}.items()))
    return (
        f"The case compiled {len(names)} time(s) during its timed calls ({counts}), so its samples would "
        "hold compile time. Likely causes: an argument whose shape or dtype changes between calls; a "
        "Python scalar whose type changes (int one call, float the next) or a weakly typed value meeting a "
        "strongly typed one; a static argument (static_argnums) that takes new values; a carried output "
        "whose shape or dtype differs from the argument it replaces. Find which with "
        "jax.config.update('jax_explain_cache_misses', True) (or JAX_EXPLAIN_CACHE_MISSES=1). If compiling "
        "on every call is what the benchmark means to time, set allow_recompile: true in its YAML."
    )


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
