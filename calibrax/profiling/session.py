"""The profiler session: the selected profilers run around one case's timed rounds, each one's
failure kept to itself, and their findings vetted before they are stored (see
:mod:`calibrax.profiling.base` for the order of calls a profiler gets).
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from calibrax.core.models import Basis, MeasureResult, Provenance
from calibrax.core.workload import Workload
from calibrax.profiling.base import PROFILERS, ProfileContext, ProfileOutput, Profiler

__all__ = ["ProfilerSession", "measure_profiled"]


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
        >>> from calibrax.profiling import ProfilingOptions
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
