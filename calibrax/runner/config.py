"""Structured configs: the schema that every ``conf/`` file and override is checked against.

One dataclass per config group, each field commented with its meaning, unit and allowed
values. ``register_configs`` puts them in Hydra's ConfigStore together with a ``params`` node
pre-filled for every known benchmark, so ``params.matmul.n=512`` needs no ``+`` prefix.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from calibrax.ci import TrialStatistic
from calibrax.core.errors import ConfigError
from calibrax.exporters import (
    FiguresSettings,
    HtmlSettings,
    JsonSettings,
    JunitSettings,
    LatexSettings,
    MarkdownSettings,
    MlflowSettings,
    WandbSettings,
)
from calibrax.profiling import CarbonBackend, CarbonOptions, TracingOptions
from calibrax.validation import ValidationConfig

__all__ = [
    "BenchmarkFileConfig",
    "CacheMode",
    "CarbonBackend",
    "CIConfig",
    "CIMode",
    "CalibraxConfig",
    "ExporterSettings",
    "HardwareConfig",
    "InputsMode",
    "Isolation",
    "ProfileConfig",
    "ReportConfig",
    "StoreConfig",
    "StoreMode",
    "SweepConfig",
    "SuiteConfig",
    "ThresholdsConfig",
    "Timer",
    "TimingMode",
    "config_to_dict",
    "MIN_BUSY_TIMEOUT",
    "RENAMED_KEYS",
    "check_settings",
    "load_config",
    "unknown_key_hint",
    "register_configs",
]


RENAMED_KEYS: dict[str, str] = {
    "profile.carbon_intensity": "profile.carbon.intensity",
    "profile.carbon_backend": "profile.carbon.backend",
    "profile.carbon_country": "profile.carbon.country",
    "profile.pue": "profile.carbon.pue",
    "profile.trace_dir": "profile.tracing.dir",
    "profile.trace_calls": "profile.tracing.calls",
}
"""Keys that moved, old -> new: an override or profile YAML with the old key is told the new one."""


class TimingMode(str, Enum):
    latency = "latency"  # block after every call: the time one call takes
    throughput = "throughput"  # block once per round: the rate of back-to-back calls


class Timer(str, Enum):
    wall = "wall"  # perf_counter around calls ended by block_until_ready (host-side wall clock)
    device = "device"  # device spans of the case's XLA ops from a jax.profiler trace of K calls
    cupti = "cupti"  # NVIDIA only: CUPTI kernel times (jax.experimental.mosaic.gpu.profiler)


class CacheMode(str, Enum):
    hot = "hot"  # calls run back to back: caches stay warm from the previous call
    cold = "cold"  # a buffer twice the last-level cache is written before every timed call


class InputsMode(str, Enum):
    reuse = "reuse"  # every call gets the same arguments
    rotate = "rotate"  # calls cycle through copies of the arguments larger in total than the cache


class Isolation(str, Enum):
    process = "process"  # each benchmark runs in a worker process (crash- and timeout-safe)
    none = "none"  # in the calibrax-run process itself: for debugging, no case timeout


class CIMode(str, Enum):
    none = "none"  # no gate: the exit code reports only failed benchmarks
    stored = "stored"  # compare with the stored run named by ci.baseline
    interleaved = "interleaved"  # re-measure the git ref ci.ref beside this code, ABBA trials


@dataclass
class SuiteConfig:
    name: str = "default"  # the suite's name, shown in reports
    description: str = ""  # one line on what the suite covers
    benchmarks: list[str] = field(default_factory=list)  # benchmark names (conf/benchmark/*.yaml)


@dataclass
class BenchmarkFileConfig:
    """The schema of one ``conf/benchmark/NAME.yaml`` (read by name, not composed)."""

    source: str = MISSING  # module name (mybench) or .py path relative to the folder holding conf/
    description: str = ""  # one line for reports and `calibrax benchmarks list`
    params: dict[str, Any] = field(default_factory=dict)  # param name -> list of values (a grid); leave it out to use @calibrax.benchmark(params=...)
    metrics: list[Any] = field(default_factory=list)  # metric names, or {name, predictions, targets, kwargs}
    thresholds: dict[str, Any] = field(default_factory=dict)  # margins for this benchmark
    validation: ValidationConfig = field(default_factory=ValidationConfig)  # convergence and accuracy checks
    allow_recompile: bool = False  # true: a case that compiles during its timed rounds is kept, not an error


@dataclass
class ProfileConfig:
    name: str = "standard"  # the protocol's name: quick, standard, rigorous or your own
    mode: TimingMode = TimingMode.latency  # latency or throughput
    warmup_calls: int = 1  # untimed calls before timing, at least
    warmup_time: float = 0.05  # seconds of untimed calls before timing, at least
    min_round_time: float = 0.001  # s; calls per round grow (1, 2, 5, 10, ...) to reach it
    min_rounds: int = 10  # timed rounds (samples of `time`) per case, at least
    max_rounds: int = 10000  # timed rounds per case, at most
    min_time: float = 0.2  # s; after min_rounds, rounds are added until they total this
    disable_gc: bool = True  # switch Python's garbage collector off during timed rounds
    isolation: Isolation = Isolation.process  # process or none
    case_timeout: float = 300.0  # s; a case still running after this is killed, stored as timeout
    worker_start_timeout: float = 120.0  # s allowed for a worker to import JAX and the benchmark
    # Profilers run around the timed rounds: timing (always), resources, flops, roofline,
    # compilation, memory, gpu, energy, carbon, complexity (a fit over a size sweep), or all;
    # tracing (a jax.profiler trace per case) is opt-in: all does not select it.
    profilers: list[str] = field(default_factory=lambda: ["timing"])
    # Each profiler's own options: one dataclass per profiler in calibrax/profiling/options.py.
    carbon: CarbonOptions = field(default_factory=CarbonOptions)  # profile.carbon.{backend,intensity,pue,country}
    tracing: TracingOptions = field(default_factory=TracingOptions)  # profile.tracing.{dir,calls}
    cold_compile: bool = False  # also time each jitted case's compile in a fresh process, no cache
    timer: Timer = Timer.wall  # wall, device (jax.profiler trace spans) or cupti (NVIDIA GPUs)
    device_calls: int = 10  # device/cupti timer: calls recorded (samples of device_time), >= 1
    cache: CacheMode = CacheMode.hot  # hot, or cold: caches flushed before every timed call
    inputs: InputsMode = InputsMode.reuse  # reuse, or rotate through copies larger than the cache


@dataclass
class HardwareConfig:
    name: str = "auto"  # the target's name: auto, cpu, gpu or a named chip
    platform: str | None = None  # JAX platform to force (cpu, gpu, tpu); null lets JAX choose
    # Dense peak FLOP/s of the target: one number, or per dtype ({bf16: ..., fp32: ...}); null: unknown.
    peak_flops: Any = None
    bandwidth: float | None = None  # peak memory bandwidth in bytes/s, when known


class StoreMode(str, Enum):
    sqlite = "sqlite"  # every job writes the SQLite file at store.path directly (one machine)
    spool = "spool"  # each job writes its run as JSON into its job folder; the sweep's end loads them


@dataclass
class StoreConfig:
    mode: StoreMode = StoreMode.sqlite  # sqlite, or spool for remote launchers (SLURM)
    path: str = "calibrax.db"  # SQLite file, relative to the folder calibrax-run started in
    busy_timeout: float = 30.0  # s to wait for another writer's lock before failing (>= 1: concurrent runs)


@dataclass
class ThresholdsConfig:
    name: str = "default"  # the thresholds set's name
    gate: list[str] = field(default_factory=lambda: ["time"])  # measures the CI gate checks
    fdr: float = 0.05  # Benjamini-Hochberg false discovery rate across the suite (0..1)
    seed: int = 0  # seed of the bootstrap: the same samples always give the same verdict
    measures: dict[str, dict[str, Any]] = field(  # measure -> {rule, margin, alpha, beta, min, max, max_drop}
        default_factory=lambda: {"time": {"margin": 0.05, "alpha": 0.01}}
    )
    benchmarks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # benchmark -> measure -> rule


@dataclass
class CIConfig:
    mode: CIMode = CIMode.none  # none, stored or interleaved
    baseline: str | None = None  # stored: the named baseline (calibrax baseline set NAME)
    ref: str | None = None  # interleaved: the git ref to compare with (main, HEAD~1, a sha)
    trials: int = 6  # interleaved: trials (worker processes) per side before the first look, in ABBA order
    max_trials: int = 30  # interleaved: trials per side at most, added in ABBA blocks while undecided
    trial_statistic: TrialStatistic = TrialStatistic.best  # interleaved: a trial's best round (min time) or median
    history: int = 10  # stored: runs of the baseline's branch whose spread is learnt (0: baseline run only)
    repeats: int = 1  # stored: fresh worker processes that measure the candidate (its own between-run spread)


@dataclass
class SweepConfig:
    id: str | None = None  # the sweep id; default: Hydra's sweep folder (multirun/DATE/TIME)
    resume: bool = False  # re-run only the jobs of sweep.id (or the latest sweep) with no ok run
    dry_run: bool = False  # print the cases every job would run, measure nothing, exit 0
    pin_cores: bool = False  # give each local job its own CPU cores (job number -> core set)
    assign_gpus: bool = True  # local launchers: one visible GPU per job (CUDA_VISIBLE_DEVICES)


# Exporter settings -----------------------------------------------------------------------------
# Each exporter's settings are one commented dataclass in calibrax/exporters/_settings.py (the one
# place their defaults live); conf/exporter/<name>.yaml is their face for users.


@dataclass
class ExporterSettings:
    """``exporter``: the settings of each exporter, one field per shipped exporter.

    An unknown exporter or key (``exporter.html.titel=...``) is a config error naming the key.
    Exporters from other packages take theirs under ``plugins.<name>``, checked against that
    exporter's own settings dataclass when it renders. Iterating gives the exporter names, and
    ``settings[name]`` one exporter's settings object (a mapping for a plugin).
    """

    html: HtmlSettings = field(default_factory=HtmlSettings)  # index.html and the sweep page
    markdown: MarkdownSettings = field(default_factory=MarkdownSettings)  # summary.md
    json: JsonSettings = field(default_factory=JsonSettings)  # run.json (no settings)
    junit: JunitSettings = field(default_factory=JunitSettings)  # junit.xml
    latex: LatexSettings = field(default_factory=LatexSettings)  # report.tex
    wandb: WandbSettings = field(default_factory=WandbSettings)  # a W&B run, receipt wandb.json
    mlflow: MlflowSettings = field(default_factory=MlflowSettings)  # an MLflow run, receipt mlflow.json
    figures: FiguresSettings = field(default_factory=FiguresSettings)  # figures/ and its receipt figures.json
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)  # plugin exporter name -> its settings

    def __iter__(self) -> Iterator[str]:
        shipped = [f.name for f in fields(self) if f.name != "plugins"]
        return iter([*shipped, *self.plugins])

    def __getitem__(self, name: str) -> Any:
        if name != "plugins" and name in {f.name for f in fields(self)}:
            return getattr(self, name)
        return self.plugins[name]

    def __len__(self) -> int:
        return len(list(iter(self)))

    def by_name(self) -> dict[str, Any]:
        """Exporter name -> its settings, what ``export_report`` takes."""
        return {name: self[name] for name in self}


def unknown_key_hint(exc: OmegaConfBaseException) -> str:
    """The allowed keys, as a sentence, when ``exc`` is an unknown key of a settings dataclass
    (empty otherwise), for :func:`load_config`'s message.

    Example:
        >>> from omegaconf.errors import ConfigKeyError
        >>> exc = ConfigKeyError("Key 'titel' not in 'HtmlSettings'")
        >>> exc.object_type = HtmlSettings
        >>> unknown_key_hint(exc)[:52]
        ' Allowed keys: title, template_dir, history_runs, pa'
    """
    kind = getattr(exc, "object_type", None)
    if not isinstance(exc, ConfigKeyError) or not isinstance(kind, type) or not is_dataclass(kind):
        return ""
    moved = RENAMED_KEYS.get(str(getattr(exc, "full_key", "") or ""))
    renamed = f" {exc.full_key} is now {moved}." if moved else ""
    return f"{renamed} Allowed keys: {', '.join(f.name for f in fields(kind))}."


@dataclass
class ReportConfig:
    dir: str = "reports"  # reports go to DIR/<run-id>/, relative to the starting folder


@dataclass
class CalibraxConfig:
    suite: SuiteConfig = field(default_factory=SuiteConfig)
    benchmarks: list[str] | None = None  # run exactly these instead of the suite's list
    extra_benchmarks: list[str] = field(default_factory=list)  # run these after the suite's
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # benchmark -> param -> grid
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    thresholds: ThresholdsConfig = field(default_factory=ThresholdsConfig)
    ci: CIConfig = field(default_factory=CIConfig)
    exporters: list[str] = field(default_factory=lambda: ["html", "markdown", "json"])
    exporter: ExporterSettings = field(default_factory=ExporterSettings)  # settings per exporter (conf/exporter/)
    report: ReportConfig = field(default_factory=ReportConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)


def register_configs(known_params: Mapping[str, Mapping[str, Any]]) -> None:
    """Put the schemas and the pre-filled ``params`` node in Hydra's ConfigStore.

    Args:
        known_params: benchmark name -> its default params grid, for every known benchmark.
    """
    cs = ConfigStore.instance()
    cs.store(name="calibrax_schema", node=CalibraxConfig)
    prefill = {name: {k: _plain(v) for k, v in grid.items()} for name, grid in known_params.items()}
    cs.store(name="calibrax_params", node={"params": prefill})


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def load_config(cfg: CalibraxConfig | DictConfig | Mapping[str, Any] | None = None) -> CalibraxConfig:
    """The typed config: a composed Hydra config, or a partial mapping over the defaults.

    This is the one place a config becomes :class:`CalibraxConfig`; the runner reads
    attributes from then on.

    Raises:
        ConfigError: an unknown key or a value of the wrong type, naming the key.

    Example:
        >>> load_config({"profile": {"min_rounds": 3}}).profile.min_rounds
        3
    """
    if isinstance(cfg, CalibraxConfig):
        return cfg
    try:
        merged = OmegaConf.merge(OmegaConf.structured(CalibraxConfig), cfg or {})
        typed = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        where = f"config key {key!r}" if key else "the config"
        raise ConfigError(f"In {where}: {str(exc).splitlines()[0]}.{unknown_key_hint(exc)} The comments of "
                          "calibrax/runner/config.py (exporters: calibrax/exporters/_settings.py) and conf/ give "
                          "each key's type and allowed values.") from None
    assert isinstance(typed, CalibraxConfig)
    check_settings(typed)
    return typed


MIN_BUSY_TIMEOUT = 1.0
"""The least ``store.busy_timeout`` (s): concurrent runs wait this long for another's write."""

# (key, least value, whether the least is allowed): every such setting must also be finite.
_BOUNDS: tuple[tuple[str, float, bool], ...] = (
    ("profile.warmup_calls", 0, True), ("profile.warmup_time", 0, True), ("profile.min_round_time", 0, True),
    ("profile.min_rounds", 1, True), ("profile.max_rounds", 1, True), ("profile.min_time", 0, True),
    ("profile.case_timeout", 0, False), ("profile.worker_start_timeout", 0, False),
    ("profile.carbon.intensity", 0, True), ("profile.carbon.pue", 1, True), ("profile.tracing.calls", 1, True),
    ("profile.device_calls", 1, True), ("store.busy_timeout", MIN_BUSY_TIMEOUT, True),
    ("thresholds.fdr", 0, False), ("ci.trials", 1, True), ("ci.max_trials", 1, True),
    ("ci.history", 0, True), ("ci.repeats", 1, True),
)


def check_settings(cfg: CalibraxConfig) -> None:
    """Check every numeric setting for finiteness and range, and every params grid for values.

    Raises:
        ConfigError: the first setting out of range (``profile.case_timeout=nan`` or ``-5``,
            ``store.busy_timeout`` under :data:`MIN_BUSY_TIMEOUT`), or an empty grid
            (``params.matmul.n=[]``), naming the key and what it takes.

    Example:
        >>> check_settings(load_config({"store": {"busy_timeout": 5}}))
    """
    for key, least, inclusive in _BOUNDS:
        node: Any = cfg
        for part in key.split("."):
            node = getattr(node, part)
        value = float(node)
        if not math.isfinite(value) or value < least or (value == least and not inclusive):
            bound = f">= {least:g}" if inclusive else f"> {least:g}"
            raise ConfigError(f"{key} must be a finite number {bound}, got {value!r}.")
    if cfg.profile.max_rounds < cfg.profile.min_rounds:
        raise ConfigError(f"profile.max_rounds ({cfg.profile.max_rounds}) must be >= profile.min_rounds "
                          f"({cfg.profile.min_rounds}).")
    if cfg.thresholds.fdr > 1:
        raise ConfigError(f"thresholds.fdr must be a rate in (0, 1], got {cfg.thresholds.fdr!r}.")
    for bench, grid in cfg.params.items():
        for param, values in (grid or {}).items():
            if isinstance(values, list | tuple) and not values:
                raise ConfigError(f"params.{bench}.{param} is an empty grid ([]): give one value or a list "
                                  "of at least one value (e.g. [64, 128]).")


def config_to_dict(cfg: CalibraxConfig) -> dict[str, Any]:
    """The config as plain JSON-ready containers (enums as their values): what a run stores.

    Example:
        >>> config_to_dict(load_config())["profile"]["mode"]
        'latency'
    """
    out: dict[str, Any] = OmegaConf.to_container(OmegaConf.structured(cfg), enum_to_str=True)  # type: ignore[assignment]
    return out
