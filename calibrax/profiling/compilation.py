"""Compilations during a case, counted through ``jax.monitoring``, and the persistent cache state.

A listener on ``/jax/core/compile/backend_compile_duration`` is registered when the case starts
and removed when it stops. ``recompilations`` counts backend compiles during the timed rounds:
a well-behaved jitted case compiles once before them and never again, so any number above 0
means the function is retraced on calls (changing shapes, dtypes, static arguments or Python
values closed over). Small eager helpers that JAX compiles when arrays are built outside jit
(``jit(broadcast_in_dim)``, ``jit(convert_element_type)``, ...) are listed apart, not counted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["CompilationProfiler", "EAGER_HELPERS", "cache_state"]

BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
EAGER_HELPERS = frozenset({
    "broadcast_in_dim", "convert_element_type", "iota", "reshape", "squeeze", "expand_dims",
    "concatenate", "full", "_where", "copy", "dynamic_slice", "dynamic_update_slice", "gather",
    "scatter", "select_n", "transpose", "add", "mul", "sub", "div", "neg", "_reduce_sum",
})
"""Primitive names whose eager ``jit(name)`` compiles are not counted as compilations of the case."""


def _is_helper(fun_name: str) -> bool:
    inner = fun_name[4:-1] if fun_name.startswith("jit(") and fun_name.endswith(")") else fun_name
    return inner in EAGER_HELPERS


def cache_state() -> dict[str, Any]:
    """Whether JAX's persistent compilation cache is on, where, and how many entries it holds.

    Example:
        >>> sorted(cache_state())
        ['cache_dir', 'enabled', 'entries', 'min_compile_time_secs', 'warm']
    """
    import jax

    config: Any = jax.config  # its options are attributes made at run time
    cache_dir = config.jax_compilation_cache_dir
    entries = None
    if cache_dir and os.path.isdir(cache_dir):
        entries = sum(1 for _ in os.scandir(cache_dir))
    return {
        "enabled": bool(cache_dir) and bool(config.jax_enable_compilation_cache),
        "cache_dir": cache_dir,
        "entries": entries,
        "warm": bool(entries),
        "min_compile_time_secs": config.jax_persistent_cache_min_compile_time_secs,
    }


@register_profiler
class CompilationProfiler(BaseProfiler):
    """``recompilations`` during the timed rounds; compile counts and cache state in meta."""

    name = "compilation"
    produces = ("recompilations",)

    def __init__(self, context: ProfileContext) -> None:
        import jax.monitoring

        super().__init__(context)
        self.events: list[tuple[str, float, bool]] = []  # (fun_name, seconds, during rounds)
        self.cache_events: dict[str, int] = {}
        self._in_rounds = False
        self._cache_before = cache_state()
        self._monitoring = jax.monitoring
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        jax.monitoring.register_event_listener(self._on_event)
        self._listening = True

    def _on_duration(self, event: str, duration_secs: float, **kwargs: str | int) -> None:
        if event == BACKEND_COMPILE:
            self.events.append((str(kwargs.get("fun_name", "?")), float(duration_secs), self._in_rounds))

    def _on_event(self, event: str, **kwargs: str | int) -> None:
        if "compilation_cache" in event:
            key = event.rsplit("/", 1)[-1]
            self.cache_events[key] = self.cache_events.get(key, 0) + 1

    def _unlisten(self) -> None:
        if self._listening:
            self._listening = False
            self._monitoring.unregister_event_duration_listener(self._on_duration)
            self._monitoring.unregister_event_listener(self._on_event)

    def start(self, workload: Workload) -> None:
        self._in_rounds = True

    def stop(self) -> None:
        self._in_rounds = False
        self._unlisten()

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        own = [(n, s, r) for n, s, r in self.events if not _is_helper(n)]
        during = [n for n, _, r in own if r]
        meta = {
            "compilations": len(own),
            "compiled_functions": sorted({n for n, _, _ in own}),
            "backend_compile_seconds": sum(s for _, s, _ in own),
            "eager_helper_compilations": len(self.events) - len(own),
            "recompiled_in_rounds": sorted(set(during)),
            "persistent_cache": self._cache_before,
            "cache_events": dict(self.cache_events),
        }
        rec = MeasureResult(measure_for("recompilations", "1", Direction.LOWER), (float(len(during)),),
                            meta={"functions": sorted(set(during))})
        return ProfileOutput({"recompilations": rec}, {}, meta)

    def __del__(self) -> None:
        try:
            self._unlisten()
        except Exception:
            pass
