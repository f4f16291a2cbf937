"""Run one case in the current process: load the benchmark, build its Workload, time it.

Used both inside worker processes and by ``profile.isolation=none``. A benchmark that raises
becomes a CaseResult with status ``error``, its traceback and whatever was measured before.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
import traceback
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calibrax.core.benchmark import BENCHMARKS, BenchmarkSpec
from calibrax.core.errors import BenchmarkError
from calibrax.core.models import CaseResult, CaseStatus, MeasureResult
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, analytic_flops, measure_profiled
from calibrax.statistics import summarize
from calibrax.validation import check_outputs, series_of

if TYPE_CHECKING:  # calibrax.metrics imports JAX: only a case that declares metrics loads it
    from calibrax.metrics import MetricSpec

__all__ = ["load_benchmark", "run_case", "summarised", "utc_now"]


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _import_source(source: str) -> None:
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise BenchmarkError(f"Benchmark source file {source} does not exist.")
        module_name = f"calibrax_user_{path.stem}_{zlib.crc32(str(path).encode()):08x}"
        if module_name in sys.modules:
            return
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise BenchmarkError(f"Cannot import benchmark source file {source}.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    else:
        importlib.import_module(source)


def load_benchmark(name: str, source: str | None) -> BenchmarkSpec:
    """Import ``source`` (a module name or .py path) and return the benchmark ``name``.

    Without a source, the benchmark must come from an entry-point plugin.

    Raises:
        BenchmarkError: the source registered no benchmark called ``name``.
    """
    if source:
        before = set(BENCHMARKS.names())
        _import_source(source)
        if name not in BENCHMARKS:
            added = sorted(set(BENCHMARKS.names()) - before)
            raise BenchmarkError(
                f"Benchmark source {source} did not register a benchmark named {name!r}; it "
                f"registered {added or 'nothing'}. Use @calibrax.benchmark({name!r}, ...) there, "
                "or rename the YAML file to match."
            )
    return BENCHMARKS.get(name)


def run_case(spec: BenchmarkSpec, params: Mapping[str, Any], protocol: TimingProtocol,
             profiling: ProfilingOptions | None = None, metrics: Sequence[MetricSpec] = (),
             output_checks: Sequence[Mapping[str, Any]] = ()) -> CaseResult:
    """Build the workload for one grid point and time it, with the selected profilers around
    its timed rounds, then compute its quality metrics on its outputs; failures become data.

    The Workload's series, the profilers' artifacts, unavailable measures and errors become
    the case's typed fields; the output comparisons of its ``validation:`` block
    (``output_checks``) are made here and travel in ``CaseResult.validation`` for the parent
    to judge.
    """
    started_at = utc_now()
    t0 = time.perf_counter()
    measures: dict[str, MeasureResult] = {}
    meta: dict[str, Any] = {"pid": os.getpid()}
    status, error = CaseStatus.OK, None
    series: dict[str, tuple[float | None, ...]] = {}
    checks: tuple[Mapping[str, Any], ...] = ()
    try:
        workload = spec.setup(**params)
        context = ProfileContext(spec.name, dict(params), profiling or ProfilingOptions(),
                                 analytic_flops(spec.factory, params))
        measure_profiled(workload, protocol, context, into=measures, meta=meta)
        if metrics:
            from calibrax.metrics import compute_metrics

            measures.update(compute_metrics(spec.name, workload.outputs, metrics))
        series = {k: tuple(v) for k, v in series_of(spec.name, workload.series).items()}
        if output_checks:
            checks = tuple(check_outputs(spec.name, params, workload, output_checks, spec.setup))
    except Exception:
        status, error = CaseStatus.ERROR, traceback.format_exc()
    return CaseResult(
        benchmark=spec.name,
        params=dict(params),
        status=status,
        measures=measures,
        error=error,
        started_at=started_at,
        duration=time.perf_counter() - t0,
        meta={k: v for k, v in meta.items() if k not in _SESSION_FIELDS},
        series=series,
        artifacts=dict(meta.get("artifacts") or {}),
        unavailable=dict(meta.get("unavailable") or {}),
        profiler_errors=dict(meta.get("profiler_errors") or {}),
        validation=checks,
    )


_SESSION_FIELDS = ("artifacts", "unavailable", "profiler_errors")
"""What the profiler session reports beside its meta, kept as the case's typed fields."""


def summarised(case: CaseResult) -> CaseResult:
    """The case with a Summary on every measure that has samples."""
    measures = {
        name: replace(m, summary=summarize(m.samples)) if m.samples else m
        for name, m in case.measures.items()
    }
    return replace(case, measures=measures)
