"""Stage 1 of a run, plan: which benchmarks run, on which grid points, timed how.

:func:`plan_run` resolves the typed config against the benchmark catalog once per run: every
unknown name is a :class:`~calibrax.core.errors.ConfigError` (exit 2) before anything is
measured. The plan says everything the execute stage needs, so no later stage re-reads YAML.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any

from calibrax.core.benchmark import BENCHMARKS, expand_grid
from calibrax.core.errors import ConfigError
from calibrax.core.registry import unknown_name_message
from calibrax.profiling import PROFILERS, TIMING_MEASURES, TimingProtocol, producible_measures, resolve_profilers
from calibrax.runner.catalog import BenchmarkEntry
from calibrax.runner.config import CalibraxConfig, ProfileConfig
from calibrax.runner.quality import MetricSpec, parse_metric_specs
from calibrax.runner.validation import ValidationSpec, parse_validation

__all__ = ["PlannedBenchmark", "check_gate", "plan_run", "protocol_settings", "with_benchmark_thresholds"]


@dataclass(frozen=True)
class PlannedBenchmark:
    """A benchmark about to run: where it comes from, its grid points and how it is timed."""

    name: str
    source: str | None
    cases: tuple[dict[str, Any], ...]
    metrics: tuple[MetricSpec, ...] = ()  # quality metrics computed on the Workload's outputs
    validation: ValidationSpec | None = None  # checks of its validation: block, when it declares any
    allow_recompile: bool = False  # its YAML lets a case compile during the timed rounds

    def output_checks(self) -> list[dict[str, Any]]:
        """The output comparisons of its validation block, made in the worker."""
        return self.validation.output_checks() if self.validation is not None else []


def protocol_settings(profile: ProfileConfig, *, allow_recompile: bool = False) -> dict[str, Any]:
    """The fields of a ``profile`` config that make a :class:`TimingProtocol`, as plain values
    (they travel to worker processes as JSON).

    Example:
        >>> protocol_settings(ProfileConfig())["mode"]
        'latency'
    """
    wanted = {f.name for f in fields(TimingProtocol)}
    values = {f.name: getattr(profile, f.name) for f in fields(profile) if f.name in wanted}
    if "allow_recompile" in wanted:
        values["allow_recompile"] = allow_recompile
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


def _selected_names(cfg: CalibraxConfig) -> list[str]:
    names = list(cfg.benchmarks if cfg.benchmarks is not None else cfg.suite.benchmarks)
    names += [n for n in cfg.extra_benchmarks if n not in names]
    if not names:
        raise ConfigError(
            "No benchmarks to run: the suite lists none and benchmarks= is empty. Name some, "
            "e.g. benchmarks=[matmul], or pick a suite with suite=default."
        )
    return names


def _planned(name: str, cfg: CalibraxConfig, entry: BenchmarkEntry | None) -> PlannedBenchmark:
    grid = cfg.params.get(name)
    if grid is None:
        grid = dict(entry.params) if entry else dict(BENCHMARKS.get(name).params)
    if entry is None:
        return PlannedBenchmark(name, None, tuple(expand_grid(grid)))
    metrics = tuple(parse_metric_specs(name, entry.metrics)) if entry.metrics else ()
    validation = None
    if entry.validation:
        validation = parse_validation(name, entry.validation, f"Benchmark config {entry.config_file}")
    return PlannedBenchmark(name, entry.source, tuple(expand_grid(grid)), metrics, validation,
                            entry.allow_recompile)


def plan_run(cfg: CalibraxConfig, catalog: Mapping[str, BenchmarkEntry]) -> list[PlannedBenchmark]:
    """Resolve benchmark names and grids; every unknown name is a ConfigError (exit 2)."""
    known = sorted(set(catalog) | set(BENCHMARKS.names()))
    planned = []
    for name in _selected_names(cfg):
        if name not in known:
            raise ConfigError(unknown_name_message("benchmark", name, known))
        planned.append(_planned(name, cfg, catalog.get(name)))
    for name in cfg.params:
        if name not in known:
            raise ConfigError(f"params.{name}: " + unknown_name_message("benchmark", name, known))
    check_gate(cfg, planned)
    return planned


def check_gate(cfg: CalibraxConfig, planned: Sequence[PlannedBenchmark]) -> None:
    """Refuse a gated measure that nothing in this run produces: it would gate nothing, and a
    typo (``thresholds.gate=[tme]``) must not pass CI silently.

    A measure can be gated when the timing or a selected profiler stores it, a planned
    benchmark declares it as a quality metric, or ``profile.cold_compile`` measures it.
    """
    producible = set(producible_measures(resolve_profilers(cfg.profile.profilers)[0]))
    producible.update(spec.name for bench in planned for spec in bench.metrics)
    if cfg.profile.cold_compile:
        producible.add("cold_compile_time")
    for name in cfg.thresholds.gate:
        if name in producible:
            continue
        hint = ""
        owners = [p for p in PROFILERS.names() if name in producible_measures([p]) - set(TIMING_MEASURES)]
        if owners:
            hint = (f" The {owners[0]} profiler measures it: select it too, e.g. "
                    f"profile.profilers=[timing,{owners[0]}].")
        close = difflib.get_close_matches(name, sorted(producible), n=3)
        did_you_mean = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"thresholds.gate names {name!r}, which nothing in this run produces, so it would gate "
            f"nothing.{did_you_mean} Measures this run can gate: {', '.join(sorted(producible))}.{hint}"
        )


def with_benchmark_thresholds(cfg: CalibraxConfig, catalog: Mapping[str, BenchmarkEntry],
                              planned: Sequence[PlannedBenchmark]) -> CalibraxConfig:
    """The config with each planned benchmark's own YAML thresholds merged into
    ``thresholds.benchmarks`` (the command line wins), so the stored config holds the whole
    gate policy."""
    per_bench = {b: dict(m) for b, m in cfg.thresholds.benchmarks.items()}
    for bench in planned:
        entry = catalog.get(bench.name)
        if entry is not None and entry.thresholds:
            per_bench[bench.name] = {**dict(entry.thresholds), **per_bench.get(bench.name, {})}
    return replace(cfg, thresholds=replace(cfg.thresholds, benchmarks=per_bench))
