"""Stage 1 of a run, plan: which benchmarks run, on which grid points, timed how.

:func:`plan_run` resolves the typed config against the benchmark catalog once per run: every
unknown name is a :class:`~calibrax.core.errors.ConfigError` (exit 2) before anything is
measured. The plan says everything the execute stage needs, so no later stage re-reads YAML.
"""

from __future__ import annotations

import difflib
import importlib.machinery
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calibrax.core.benchmark import BENCHMARKS, expand_grid
from calibrax.core.errors import ConfigError
from calibrax.core.registry import unknown_name_message
from calibrax.profiling import PROFILERS, TIMING_MEASURES, TimingProtocol, producible_measures, resolve_profilers
from calibrax.runner.catalog import BenchmarkEntry
from calibrax.runner.config import CalibraxConfig, ProfileConfig
from calibrax.validation import ValidationSpec, parse_validation

if TYPE_CHECKING:  # calibrax.metrics imports JAX: only a run that declares metrics loads it
    from calibrax.metrics import MetricSpec

log = logging.getLogger("calibrax")

__all__ = ["PlannedBenchmark", "check_gate", "decorator_grid", "plan_run", "protocol_settings", "with_benchmark_thresholds"]


@dataclass(frozen=True)
class PlannedBenchmark:
    """A benchmark about to run: where it comes from, its grid points and how it is timed."""

    name: str
    source: str | None
    cases: tuple[dict[str, Any], ...]
    metrics: tuple[MetricSpec, ...] = ()  # quality metrics computed on the Workload's outputs
    validation: ValidationSpec | None = None  # checks of its validation: block, when it declares any
    allow_recompile: bool = False  # its YAML lets a case compile during the timed rounds
    grid: Mapping[str, Any] = field(default_factory=dict)  # the grid its cases expand
    grid_source: str = "yaml"  # where the grid came from: yaml, command line or decorator

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
    if entry is None:  # a plugin's benchmark: the decorator's grid, as overridden
        declared = {k: list(v) for k, v in BENCHMARKS.get(name).params.items()}
        grid = {**declared, **(grid or {})}
        return PlannedBenchmark(name, None, tuple(expand_grid(grid)), grid=grid,
                                grid_source="decorator" if grid == declared else "command line")
    if entry.problem:
        raise ConfigError(entry.problem)
    _check_source(entry)  # once per benchmark, before its grid is read (an empty grid list is refused by load_config)
    source = "command line" if grid is not None and dict(grid) != dict(entry.params) else "yaml"
    if grid is None:
        grid = dict(entry.params)
    elif source == "command line":
        _check_param_types(name, grid, entry)
    if not entry.params_declared:  # no params: in the YAML: the decorator's grid, as overridden
        declared = decorator_grid(entry)
        grid = {**declared, **dict(grid)}
        source = "decorator" if grid == declared else "command line"
    validation = None
    if entry.validation:
        validation = parse_validation(name, entry.validation, f"Benchmark config {entry.config_file}")
    return PlannedBenchmark(name, entry.source, tuple(expand_grid(grid)), _metric_specs(name, entry.metrics),
                            validation, entry.allow_recompile, dict(grid), source)


def _metric_specs(name: str, items: Sequence[Any]) -> tuple[MetricSpec, ...]:
    """The benchmark's declared quality metrics, checked against the registry (which imports
    JAX: loaded only when some are declared)."""
    if not items:
        return ()
    from calibrax.metrics import parse_metric_specs

    return tuple(parse_metric_specs(name, items))


_GRID_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[3])
from calibrax.runner.execute import load_benchmark
spec = load_benchmark(sys.argv[1], sys.argv[2])
print(json.dumps({k: list(v) for k, v in spec.params.items()}))
"""


def decorator_grid(entry: BenchmarkEntry, timeout: float = 120.0) -> dict[str, list[Any]]:
    """The ``params=`` grid of ``@calibrax.benchmark`` in the entry's source, for a YAML that
    leaves ``params:`` out.

    The source is imported in a short-lived child process with JAX on the CPU, so user code
    never runs (nor takes a device) in this process.

    Raises:
        ConfigError: the source cannot be imported or registers no such benchmark; the
            message names the YAML file and the last line of the error.
    """
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    try:
        done = subprocess.run([sys.executable, "-c", _GRID_SCRIPT, entry.name, entry.source, str(Path.cwd())],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"Benchmark config {entry.config_file} has no params:, and importing its source "
                          f"{entry.source} to read @calibrax.benchmark(params=...) took over {timeout:.0f} s.") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error text"])[-1]
        raise ConfigError(
            f"Benchmark config {entry.config_file} has no params:, so its grid is the params= of "
            f"@calibrax.benchmark({entry.name!r}, ...) in {entry.source}, and importing that failed: {last}. "
            "Fix the source, or give the grid under params: in the YAML."
        )
    grid: dict[str, list[Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return grid


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _value_type(value: Any) -> type | None:
    for kind in (bool, int, float, str):  # bool first: it is an int too
        if isinstance(value, kind):
            return kind
    return None


def _check_param_types(name: str, grid: Mapping[str, Any], entry: BenchmarkEntry) -> None:
    """A grid value given on the command line must have the type of the YAML's default values
    (an integer where a number is expected is fine), so ``params.scale.n=abc`` stops here."""
    for param, values in grid.items():
        defaults = entry.params.get(param)
        if not isinstance(defaults, Sequence) or isinstance(defaults, str) or not defaults:
            continue
        expected: set[type] = {t for t in map(_value_type, defaults) if t is not None}
        if len(expected) != 1:
            continue
        [kind] = expected
        given = values if isinstance(values, Sequence) and not isinstance(values, str) else [values]
        for value in given:
            found = _value_type(value)
            if found is kind or (kind is float and found is int) or found is None:
                continue
            raise ConfigError(
                f"params.{name}.{param}={value!r} is {_TYPE_NAMES.get(found, type(value).__name__)}, but "
                f"{entry.config_file} declares {param} as {_TYPE_NAMES[kind]} (e.g. {defaults[0]!r}). "
                f"Give {_TYPE_NAMES[kind]}, e.g. params.{name}.{param}=[{defaults[0]!r}]."
            )


def _check_source(entry: BenchmarkEntry) -> None:
    """The benchmark's source must exist before anything is measured: a ``.py`` file on disk, or
    a module that Python's path finders can locate (found without importing it, so no user code
    runs in this process)."""
    where = f"Benchmark config {entry.config_file}: source"
    if entry.source.endswith(".py"):
        if not Path(entry.source).is_file():
            raise ConfigError(f"{where} {entry.source} does not exist. Give the path of the .py file that "
                              "registers the benchmark, relative to the folder that holds conf/.")
        return
    search = [str(Path.cwd()), *sys.path]
    parts = entry.source.split(".")
    for depth in range(1, len(parts) + 1):
        module = ".".join(parts[:depth])
        spec = importlib.machinery.PathFinder.find_spec(module, search)
        if spec is None:
            raise ConfigError(
                f"{where} {entry.source!r} names no module: {module!r} was not found in the current folder "
                f"{Path.cwd()} or on the Python path. Check the name, run calibrax-run from the folder that "
                "holds the module, or give a .py path (source: benchmarks/mybench.py)."
            )
        if depth < len(parts):
            search = list(spec.submodule_search_locations or [])


def plan_run(cfg: CalibraxConfig, catalog: Mapping[str, BenchmarkEntry]) -> list[PlannedBenchmark]:
    """Resolve benchmark names and grids; every unknown name is a ConfigError (exit 2).

    A benchmark YAML that cannot be read stops the run only when that benchmark is selected;
    otherwise it is a warning.
    """
    known = sorted(set(catalog) | set(BENCHMARKS.names()))
    planned = []
    selected = _selected_names(cfg)
    for name in selected:
        if name not in known:
            raise ConfigError(unknown_name_message("benchmark", name, known))
        planned.append(_planned(name, cfg, catalog.get(name)))
    for name, entry in catalog.items():
        if entry.problem and name not in selected:
            log.warning("Benchmark %s is not selected and its config cannot be read: %s", name, entry.problem)
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
