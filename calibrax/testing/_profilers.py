"""``ProfilerConformance``: the checks every profiler passes (see :mod:`calibrax.testing`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from calibrax.core import MeasureResult, Workload
from calibrax.profiling import (
    PROFILERS,
    RUNNER_STEPS,
    ProfileContext,
    ProfileOutput,
    Profiler,
    ProfilerSession,
    ProfilingOptions,
    TimingProtocol,
    measure_workload,
    resolve_profilers,
)

__all__ = ["ProfilerConformance"]

_FAST = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)
_STAGES = frozenset({"time", "trace_time", "lower_time", "compile_time"})  # what the timing itself measures


class ProfilerConformance:
    """Subclass it and set ``profiler`` to your profiler's registry name.

    Override :meth:`workload` to measure something other than a small jitted matmul, and
    :meth:`options` for the profiling options the profiler reads (peaks, trace folder).

    Attributes:
        profiler: the registry name of the profiler under test.
    """

    profiler: ClassVar[str] = ""

    @pytest.fixture(autouse=True)
    def _scratch(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A scratch folder as the current folder, so nothing a profiler writes is left behind."""
        monkeypatch.chdir(tmp_path)

    def workload(self) -> Workload:
        """What is measured: a jitted ``tanh(x @ x).sum()`` on a 64 x 64 matrix (JAX is imported here)."""
        import jax
        import jax.numpy as jnp

        return Workload(jax.jit(lambda x: jnp.tanh(x @ x).sum()), args=(jnp.ones((64, 64)),))

    def options(self, names: tuple[str, ...], folder: Path) -> ProfilingOptions:
        """The profiling options of the run: the profilers, traces under ``folder``."""
        return ProfilingOptions(profilers=names, trace_dir=str(folder / "traces"))

    def _cls(self) -> Any:
        assert self.profiler, f"{type(self).__name__} must set profiler = '<registry name>'"
        return PROFILERS.get(self.profiler)

    def _measure(self, folder: Path) -> tuple[dict[str, MeasureResult], ProfileOutput, dict[str, str]]:
        """Time the workload with the profiler (and those it needs) around the rounds, as the runner does."""
        names, _ = resolve_profilers([self.profiler])
        workload = self.workload()
        session = ProfilerSession(names, ProfileContext("conformance", {"n": 64}, self.options(names, folder)))
        into: dict[str, MeasureResult] = {}
        try:
            measure_workload(workload, _FAST, into=into, on_compiled=session.compiled,
                             on_rounds=lambda: session.start(workload))
        finally:
            out = session.stop(into)
        return into, out, dict(session.errors)

    def test_is_registered_under_its_name_and_built_from_a_context(self) -> None:
        cls = self._cls()
        assert cls.name == self.profiler and self.profiler not in RUNNER_STEPS
        profiler = cls(ProfileContext())
        assert isinstance(profiler, Profiler), "it must follow calibrax.profiling.Profiler"

    def test_needs_resolve_to_registered_profilers_run_before_it(self) -> None:
        names, steps = resolve_profilers([self.profiler])
        assert names[-1] == self.profiler and "timing" in steps
        for need in getattr(self._cls(), "needs", ()):
            assert need in PROFILERS and names.index(need) < names.index(self.profiler), need

    def test_lifecycle_compiled_start_stop_collect(self) -> None:
        profiler = self._cls()(ProfileContext("conformance", {"n": 64}, ProfilingOptions(profilers=(self.profiler,))))
        workload = self.workload()
        if hasattr(workload.fn, "lower"):  # a jitted function: the executable, as the runner passes it
            profiler.compiled(workload.fn.lower(*workload.args, **workload.kwargs).compile())
        profiler.start(workload)
        workload.fn(*workload.args, **workload.kwargs)
        profiler.stop()
        out = profiler.collect(_time_only())
        assert isinstance(out, ProfileOutput), f"collect must return a ProfileOutput, got {type(out).__name__}"

    def test_measures_or_says_why_not_never_both_never_zero_for_unavailable(self, tmp_path: Path) -> None:
        into, out, errors = self._measure(tmp_path)
        assert errors == {}, errors
        produced = set(out.measures) - _STAGES
        unavailable = dict(out.unavailable)
        assert produced or unavailable, f"{self.profiler} reported nothing"
        assert not produced & set(unavailable), "a measure is both measured and unavailable"
        for measure, reason in unavailable.items():
            assert isinstance(reason, str) and len(reason) > 10, (measure, reason)
            assert measure not in into, f"{measure} is unavailable, yet stored (as {into.get(measure)})"
        from calibrax.profiling import producible_measures, resolve_profilers

        declared = set(producible_measures(resolve_profilers([self.profiler])[0]))
        undeclared = (produced | set(unavailable)) - declared
        assert not undeclared, f"{self.profiler} stores {sorted(undeclared)} but its produces lists {sorted(declared)}"
        for measure in produced:
            result = out.measures[measure]
            assert result.measure.name == measure and result.measure.unit, measure
            assert result.samples and all(math.isfinite(s) for s in result.samples), (measure, result.samples)


def _time_only() -> Mapping[str, MeasureResult]:
    """A ``time`` measure as the timed rounds leave it, for a profiler collected alone."""
    from calibrax.core import measure_for

    return {"time": MeasureResult(measure_for("time"), (1e-4, 1.1e-4, 1.2e-4), None,
                                  {"calls_per_round": 1, "rounds": 3, "mode": "calls"})}
