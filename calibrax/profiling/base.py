"""The profiler extension point: a protocol, the records a profiler gets and returns, and the
registry of profilers (the session that runs them is in ``calibrax.profiling.session``; the
options they read, :class:`ProfilingOptions`, in ``calibrax.profiling.options``).

A profiler measures something around the timed rounds of one case. The runner builds each
selected profiler with the case's :class:`ProfileContext` when the case starts, then calls:

1. ``compiled(executable)`` once, after the jitted function is compiled (never for a plain
   callable);
2. ``start(workload)`` just before the first timed round;
3. ``stop()`` right after the last round: every profiler reads its counters here and does
   nothing else, so no profiler's window holds another's work;
4. ``collect(measures)`` once all are stopped, with the measures known so far (``time`` among
   them, and those of profilers collected earlier); it returns a :class:`ProfileOutput` and
   may call the workload again untimed (a leak check, a region long enough for an energy
   counter).

No profiler adds work inside a round. A measure that cannot be read here (no GPU, no RAPL
counter) is listed in ``ProfileOutput.unavailable`` with the reason, never stored as 0. A
profiler that raises is recorded in the case's meta under ``profiler_errors``; the case and
the other profilers go on.

Two names are accepted in ``profile.profilers`` without being profilers: ``timing`` (the
timed rounds themselves, always measured) and ``complexity`` (a fit over a benchmark's size
sweep, made by the runner once the benchmark's cases are done).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from calibrax.core.errors import ConfigError
from calibrax.core.models import MeasureResult
from calibrax.core.registry import Registry, unknown_name_message
from calibrax.core.workload import Workload
from calibrax.profiling.options import ProfilingOptions

__all__ = [
    "BaseProfiler",
    "PROFILERS",
    "TIMING_MEASURES",
    "producible_measures",
    "RUNNER_STEPS",
    "ProfileContext",
    "ProfileOutput",
    "Profiler",
    "ProfilerFactory",
    "ProfilingOptions",
    "register_profiler",
    "resolve_profilers",
]


@dataclass(frozen=True)
class ProfileContext:
    """What a profiler knows about the case it measures.

    Attributes:
        benchmark: the benchmark's name.
        params: the case's grid point.
        options: the run's profiling options (peaks, carbon intensity, trace folder).
        analytic_flops: FLOPs per call that the benchmark declares, or None.
    """

    benchmark: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    options: ProfilingOptions = field(default_factory=ProfilingOptions)
    analytic_flops: float | None = None


@dataclass(frozen=True)
class ProfileOutput:
    """What one profiler found.

    Attributes:
        measures: measure name -> result, merged into the case's measures.
        unavailable: measure name -> why it could not be measured here.
        meta: facts for the case's meta, stored under ``profiling.<profiler name>``.
        artifacts: files written for the case, name -> ``{"path", "kind", "summary"}``; they
            go into the case's meta under ``artifacts`` and the runner stores them with the
            case (``Store.add_artifact``).
    """

    measures: Mapping[str, MeasureResult] = field(default_factory=dict)
    unavailable: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@runtime_checkable
class Profiler(Protocol):
    """Measures something around one case's timed rounds (see the module docstring).

    Example:
        >>> class Rounds(BaseProfiler):
        ...     name = "rounds"
        ...     def collect(self, measures):
        ...         return ProfileOutput(meta={"rounds": measures["time"].meta["rounds"]})
        >>> isinstance(Rounds(ProfileContext()), Profiler)
        True
    """

    name: str

    def compiled(self, executable: Any) -> None:
        """Called once with the compiled executable of a jitted workload."""
        ...

    def start(self, workload: Workload) -> None:
        """Called just before the first timed round."""
        ...

    def stop(self) -> None:
        """Called right after the last timed round: read counters, nothing more."""
        ...

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        """Called once every profiler is stopped; returns what was measured."""
        ...


class BaseProfiler:
    """Defaults for a profiler: nothing to do at compile time, start or stop; nothing found.

    Class attributes:
        name: the registry name.
        needs: profilers whose measures this one reads; selecting it selects them first.
        in_all: whether ``profile.profilers=[all]`` selects it (opt-in profilers say False).
        produces: every measure name it may store (or report unavailable), so a gate on a
            measure no selected profiler produces is refused before anything runs.
    """

    name = "base"
    needs: tuple[str, ...] = ()
    in_all = True
    produces: tuple[str, ...] = ()

    def __init__(self, context: ProfileContext) -> None:
        self.context = context

    def compiled(self, executable: Any) -> None:
        return None

    def start(self, workload: Workload) -> None:
        return None

    def stop(self) -> None:
        return None

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        return ProfileOutput()


ProfilerFactory = Callable[[ProfileContext], Profiler]
"""Builds a profiler for one case: a BaseProfiler subclass is one."""

PROFILERS: Registry[Any] = Registry("profiler", "calibrax.profilers")
"""Every profiler class known to this process, by name (plugins through entry points)."""

TIMING_MEASURES: tuple[str, ...] = (
    "time", "trace_time", "lower_time", "compile_time", "throughput", "device_time", "dispatch_overhead",
)
"""Measures the timed rounds themselves store (``throughput`` when a workload declares items,
``device_time`` and ``dispatch_overhead`` with ``profile.timer=device``)."""


def producible_measures(profilers: Iterable[str]) -> frozenset[str]:
    """The measure names the timing and the given profilers may store.

    Example:
        >>> import calibrax.profiling
        >>> sorted(producible_measures(["roofline"]))[:2]
        ['achieved_flops', 'arithmetic_intensity']
    """
    names = set(TIMING_MEASURES)
    for name in profilers:
        if name in PROFILERS.names():
            names.update(_attr(name, "produces", ()))
    return frozenset(names)


RUNNER_STEPS: Mapping[str, str] = {
    "timing": "the timed rounds themselves; always measured",
    "complexity": "a complexity-class fit over a benchmark's size sweep, made by the runner",
}
"""Names accepted in ``profile.profilers`` that are steps of the runner, not profilers."""


def register_profiler(cls: type[BaseProfiler]) -> type[BaseProfiler]:
    """Class decorator: register a profiler class under its ``name``."""
    PROFILERS.register(cls.name, cls)
    return cls


def _attr(name: str, attr: str, default: Any) -> Any:
    return getattr(PROFILERS.get(name), attr, default)


def resolve_profilers(names: Iterable[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Expand ``all`` and required profilers; split runner steps from profilers.

    Args:
        names: ``profile.profilers`` as configured (None means ``[timing]``).

    Returns:
        ``(profilers, steps)``: profiler names in the order they run (each after those it
        needs), and the runner steps named (``timing`` always among them).

    Raises:
        ConfigError: an unknown name; the message lists close matches and every known name.

    Example:
        >>> import calibrax.profiling
        >>> resolve_profilers(["roofline"])
        (('flops', 'roofline'), ('timing',))
    """
    requested = list(names) if names is not None else ["timing"]
    known = PROFILERS.names()
    allowed = sorted({*known, *RUNNER_STEPS, "all"})
    steps: set[str] = {"timing"}
    chosen: list[str] = []
    for name in requested:
        if not isinstance(name, str) or name not in allowed:
            raise ConfigError(f"profile.profilers: {unknown_name_message('profiler', str(name), allowed)}")
        if name == "all":
            steps.update(RUNNER_STEPS)
            chosen += [n for n in known if _attr(n, "in_all", True)]
        elif name in RUNNER_STEPS:
            steps.add(name)
        else:
            chosen.append(name)
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ConfigError(f"Profilers need each other in a cycle: {' -> '.join((*path, name))}.")
        for dep in _attr(name, "needs", ()):
            visit(dep, (*path, name))
        ordered.append(name)

    for name in chosen:
        visit(name, ())
    return tuple(ordered), tuple(n for n in RUNNER_STEPS if n in steps)
