"""The profiler extension point: a protocol, its registry, and the session that runs profilers.

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

import math
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

from calibrax.core.errors import ConfigError
from calibrax.core.models import Basis, MeasureResult, Provenance
from calibrax.core.registry import Registry, unknown_name_message
from calibrax.core.workload import Workload
from calibrax.profiling.options import CarbonOptions, TracingOptions

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
    "ProfilerSession",
    "ProfilingOptions",
    "measure_profiled",
    "register_profiler",
    "resolve_profilers",
]


@dataclass(frozen=True)
class ProfilingOptions:
    """What the runner asks of the profilers; travels to worker processes as JSON.

    Attributes:
        profilers: profiler names to run, resolved (no ``all``, ``timing`` or ``complexity``),
            in the order they are stopped.
        peak_flops: the target's dense peak FLOP/s per dtype (``{"bf16": 989e12, "fp32":
            67e12}``; keys in ``PEAK_DTYPES``, aliases such as ``bfloat16`` or ``float32``
            accepted), or None when unknown. A single number (the old form) is kept as
            ``{"any": value}``: the roofline then uses it for every dtype and ``peak_source``
            says so.
        bandwidth: the target's peak memory bandwidth in bytes/s, or None when unknown.
        peak_source: where the peaks came from (a hardware config or a calibration file).
        carbon_intensity: grid carbon intensity in g CO2e per kWh.
        pue: power usage effectiveness of the data centre (1 for a desktop).
        complexity: whether the runner fits complexity classes over size sweeps.
        carbon_backend: ``formula`` (energy x intensity x PUE) or ``codecarbon`` (its offline
            tracker, with the grid of ``carbon_country``).
        carbon_country: ISO 3166 alpha-3 code of the country whose grid codecarbon uses.
        trace_dir: the folder the ``tracing`` profiler writes each case's trace under (None:
            a new temporary folder).
        trace_calls: untimed calls recorded in each trace.

    Raises:
        ConfigError: a ``peak_flops`` key that names no dtype, or a peak that is not a
            positive number.

    Example:
        >>> ProfilingOptions(peak_flops={"bfloat16": 989e12, "fp32": 67e12}).peak_flops
        {'bf16': 989000000000000.0, 'fp32': 67000000000000.0}
        >>> ProfilingOptions(peak_flops=1e12, peak_source="hardware target 'x'").peak_source
        "hardware target 'x' (one peak_flops for every dtype)"
    """

    PEAK_DTYPES: ClassVar[tuple[str, ...]] = ("fp8", "int8", "int4", "bf16", "fp16", "tf32", "fp32", "fp64")
    _PEAK_ALIASES: ClassVar[Mapping[str, str]] = {
        "bfloat16": "bf16", "float16": "fp16", "f16": "fp16", "half": "fp16", "float32": "fp32", "f32": "fp32",
        "float": "fp32", "float64": "fp64", "f64": "fp64", "double": "fp64", "float8": "fp8", "f8": "fp8",
        "s8": "int8", "i8": "int8", "s4": "int4", "i4": "int4", "tensorfloat32": "tf32",
    }

    profilers: tuple[str, ...] = ()
    peak_flops: Mapping[str, float] | float | None = None
    bandwidth: float | None = None
    peak_source: str | None = None
    carbon_intensity: float = CarbonOptions.intensity
    pue: float = CarbonOptions.pue
    complexity: bool = False
    carbon_backend: str = CarbonOptions.backend.value
    carbon_country: str | None = CarbonOptions.country
    trace_dir: str | None = None  # the run's folder (TracingOptions.dir resolved), None: a temporary one
    trace_calls: int = TracingOptions.calls

    def __post_init__(self) -> None:
        value = self.peak_flops
        if value is None or isinstance(value, Mapping):
            object.__setattr__(self, "peak_flops", self.normalise_peaks(value))
            return
        object.__setattr__(self, "peak_flops", self.normalise_peaks({"any": value}))
        object.__setattr__(self, "peak_source", f"{self.peak_source or 'peak_flops'} (one peak_flops for every dtype)")

    @classmethod
    def normalise_peaks(cls, peaks: Mapping[str, Any] | None) -> dict[str, float] | None:
        """Peaks keyed by canonical dtype names; None (or an empty mapping) gives None.

        Raises:
            ConfigError: an unknown dtype key or a peak that is not a positive number.

        Example:
            >>> ProfilingOptions.normalise_peaks({"BF16": 1e15, "float32": "6.7e13"})
            {'bf16': 1000000000000000.0, 'fp32': 67000000000000.0}
        """
        if not peaks:
            return None
        allowed = (*cls.PEAK_DTYPES, "any")
        out: dict[str, float] = {}
        for raw, peak in peaks.items():
            key = cls._PEAK_ALIASES.get(str(raw).strip().lower(), str(raw).strip().lower())
            if key not in allowed:
                raise ConfigError(
                    f"hardware.peak_flops: unknown dtype {raw!r}; use one of {', '.join(cls.PEAK_DTYPES)} "
                    "(for example peak_flops: {bf16: 989.0e12, fp32: 67.0e12}), or one number for every dtype.")
            try:
                number = float(peak)
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and number > 0) or isinstance(peak, bool):
                raise ConfigError(f"hardware.peak_flops.{key} must be a positive number of FLOP/s, got {peak!r}.")
            out[key] = number
        return out

    @property
    def peaks(self) -> dict[str, float]:
        """The normalised ``peak_flops`` (empty when unknown)."""
        return dict(self.peak_flops) if isinstance(self.peak_flops, Mapping) else {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``ProfilingOptions.from_dict`` reads it back."""
        peaks = self.peak_flops
        return {**self.__dict__, "profilers": list(self.profilers),
                "peak_flops": dict(peaks) if isinstance(peaks, Mapping) else peaks}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ProfilingOptions:
        """Options from :meth:`to_dict` output (None gives the defaults)."""
        data = dict(data or {})
        data["profilers"] = tuple(data.get("profilers") or ())
        return cls(**data)


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


class ProfilerSession:
    """Runs the selected profilers around one case, keeping each one's failure to itself.

    Example:
        >>> import calibrax.profiling
        >>> session = ProfilerSession(("resources",), ProfileContext())
        >>> session.start(Workload(sum, args=([1],)))
        >>> out = session.stop({})
        >>> "peak_rss" in out.measures
        True
    """

    def __init__(self, names: Iterable[str], context: ProfileContext) -> None:
        self.errors: dict[str, str] = {}
        self.profilers: list[Profiler] = []
        self._started = False
        self._stopped = False
        for name in names:
            try:
                self.profilers.append(PROFILERS.get(name)(context))
            except Exception:
                self.errors[name] = traceback.format_exc()

    def _each(self, method: str, *args: Any) -> None:
        for p in list(self.profilers):
            try:
                getattr(p, method)(*args)
            except Exception:
                self.errors[p.name] = traceback.format_exc()
                self.profilers.remove(p)

    def compiled(self, executable: Any) -> None:
        """Pass the compiled executable to every profiler."""
        self._each("compiled", executable)

    def start(self, workload: Workload) -> None:
        """Start every profiler (just before the timed rounds)."""
        self._started = True
        self._each("start", workload)

    def stop_counters(self) -> None:
        """Stop every started profiler once (right after the last wall round), so work after
        the rounds (the device timer's calls) stays out of their windows."""
        if self._started and not self._stopped:
            self._stopped = True
            self._each("stop")

    def stop(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        """Stop every profiler, then collect each in order (each sees the measures of those
        collected before it).

        A session never started (the case failed before its rounds) collects nothing and
        returns only the errors of profilers that could not be built.
        """
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        meta: dict[str, Any] = {}
        artifacts: dict[str, Any] = {}
        self.stop_counters()
        for p in self.profilers if self._started else []:
            try:
                out = p.collect({**measures, **found})
            except Exception:
                self.errors[p.name] = traceback.format_exc()
                continue
            kept, refused = _vetted(p.name, out.measures)
            found.update(kept)
            unavailable.update(out.unavailable)
            unavailable.update(refused)
            if out.meta:
                meta[p.name] = dict(out.meta)
            artifacts.update({k: dict(v) for k, v in out.artifacts.items()})
        case_meta: dict[str, Any] = {}
        if meta:
            case_meta["profiling"] = meta
        if artifacts:
            case_meta["artifacts"] = artifacts
        if unavailable:
            case_meta["unavailable"] = unavailable
        if self.errors:
            case_meta["profiler_errors"] = dict(self.errors)
        return ProfileOutput(found, unavailable, case_meta, artifacts)


_BASES = {b.value: b for b in Basis}


def _vetted(profiler: str, measures: Mapping[str, MeasureResult]) -> tuple[dict[str, MeasureResult], dict[str, str]]:
    """A profiler's measures with their provenance set, and those refused: a measure with no
    sample, or a sample that is None or not finite, stands in for a reading that failed and
    becomes unavailable (with the reason) rather than a stored figure."""
    kept: dict[str, MeasureResult] = {}
    refused: dict[str, str] = {}
    for name, result in measures.items():
        bad = [v for v in result.samples if v is None or not isinstance(v, (int, float)) or not math.isfinite(v)]
        if not result.samples or bad:
            what = "no sample" if not result.samples else f"the sample(s) {bad[:3]!r}"
            refused[name] = (f"the {profiler} profiler returned {what} for {name}; a reading that failed is "
                             "unavailable, never a stored number")
            continue
        prov = result.provenance
        if not prov.source:  # the profiler said only the basis (meta "basis") or nothing: name it
            basis = _BASES.get(str(result.meta.get("basis")), prov.basis)
            source = str(result.meta.get("source") or profiler)
            prov = Provenance(basis, source if source != basis.value else profiler, prov.inputs)
            result = replace(result, provenance=prov)
        kept[name] = result
    return kept, refused


def measure_profiled(
    workload: Workload,
    protocol: Any,
    context: ProfileContext,
    *,
    into: dict[str, MeasureResult],
    meta: dict[str, Any],
) -> None:
    """Time ``workload`` with the context's profilers around its timed rounds.

    Measures go into ``into`` as soon as they are known, so stage times survive a failure
    later; the profilers are stopped even when timing raises, and what they report for the
    case's meta (``profiling``, ``unavailable``, ``profiler_errors``) goes into ``meta``.

    Example:
        >>> import calibrax.profiling
        >>> from calibrax.profiling.timing import TimingProtocol
        >>> got, meta = {}, {}
        >>> ctx = ProfileContext(options=ProfilingOptions(profilers=("resources",)))
        >>> measure_profiled(Workload(sum, args=([1],)), TimingProtocol(min_rounds=1, min_time=0), ctx,
        ...                  into=got, meta=meta)
        >>> "peak_rss" in got and "time" in got
        True
    """
    from calibrax.profiling.timing import measure_workload

    session = ProfilerSession(context.options.profilers, context)
    try:
        measure_workload(workload, protocol, into=into, on_compiled=session.compiled,
                         on_rounds=lambda: session.start(workload), on_rounds_end=session.stop_counters)
    finally:
        for name, result in list(into.items()):  # the timed rounds' own figures say so
            if not result.provenance.source:
                into[name] = replace(result, provenance=replace(result.provenance, source="timed rounds"))
        out = session.stop(into)
        for name, result in out.measures.items():
            into.setdefault(name, result)
        meta.update(out.meta)
