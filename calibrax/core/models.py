"""Frozen records that cross the layers of calibrax.

Profiling fills them, storage persists them, analysis compares them and exporters render them.
Nothing here imports JAX or any other calibrax module.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Basis",
    "BenchmarkResult",
    "CaseResult",
    "CaseStatus",
    "Direction",
    "GitInfo",
    "HardwareInfo",
    "Measure",
    "MeasureResult",
    "Provenance",
    "RunInfo",
    "RunStatus",
    "STANDARD_MEASURES",
    "Summary",
    "Verdict",
    "VerdictKind",
    "canonical_params",
    "measure_for",
]


class Direction(str, Enum):
    """Which way is better for a measure."""

    LOWER = "lower"
    HIGHER = "higher"
    INFO = "info"


class Basis(str, Enum):
    """Where a stored figure comes from."""

    MEASURED = "measured"  # read from a clock or a counter while the case ran
    DERIVED = "derived"  # computed from other measures of the case (e.g. roofline efficiency)
    MODELLED = "modelled"  # a model's estimate with declared inputs (XLA's cost model, a carbon formula)


@dataclass(frozen=True)
class Provenance:
    """How one measure of one case was obtained.

    Attributes:
        basis: measured, derived or modelled.
        source: what produced it (a profiler, a formula, ``xla cost_analysis``, ``declared``).
        inputs: the measures a derived or modelled figure was computed from.

    Example:
        >>> Provenance(Basis.DERIVED, "roofline", ("achieved_flops",)).basis.value
        'derived'
    """

    basis: Basis
    source: str = ""
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """What is measured: a name with its unit, the direction that counts as better, and how
    a figure of it is usually obtained (``basis``).

    Example:
        >>> Measure("time", "s", Direction.LOWER).name
        'time'
    """

    name: str
    unit: str
    direction: Direction
    description: str = ""
    basis: Basis = Basis.MEASURED


_STANDARD = [
    Measure("time", "s", Direction.LOWER, "wall time per call"),
    Measure("device_time", "s", Direction.LOWER, "device time per call (profiler trace)"),
    Measure("dispatch_overhead", "s", Direction.LOWER, "wall time minus device time per call", Basis.DERIVED),
    Measure("trace_time", "s", Direction.LOWER, "time to trace the function to a jaxpr"),
    Measure("lower_time", "s", Direction.LOWER, "time to lower the jaxpr to StableHLO"),
    Measure("compile_time", "s", Direction.LOWER, "time for XLA to compile the lowered module"),
    Measure("throughput", "items/s", Direction.HIGHER, "items processed per second", Basis.DERIVED),
    Measure("flops", "FLOP", Direction.INFO, "floating-point operations per call (XLA)", Basis.MODELLED),
    Measure("transcendentals", "1", Direction.INFO, "transcendental operations per call (XLA)", Basis.MODELLED),
    Measure("bytes_accessed", "B", Direction.INFO, "bytes read and written per call (XLA)", Basis.MODELLED),
    Measure("compiled_peak_memory", "B", Direction.LOWER, "peak memory estimate of the executable", Basis.MODELLED),
    Measure("peak_rss", "B", Direction.LOWER, "peak resident set size of the process"),
    Measure("device_peak_memory", "B", Direction.LOWER, "peak device memory in use"),
    Measure("energy", "J", Direction.LOWER, "energy consumed (gross: idle power included)"),
    Measure("energy_marginal", "J", Direction.LOWER, "energy above the idle baseline per call", Basis.DERIVED),
    Measure("carbon", "gCO2e", Direction.LOWER, "emissions for the energy consumed", Basis.MODELLED),
    Measure("achieved_flops", "FLOP/s", Direction.HIGHER, "floating-point rate achieved", Basis.DERIVED),
    Measure("arithmetic_intensity", "FLOP/B", Direction.INFO, "flops per byte accessed", Basis.DERIVED),
    Measure("roofline_efficiency", "1", Direction.HIGHER, "achieved over attainable rate", Basis.DERIVED),
]

STANDARD_MEASURES: Mapping[str, Measure] = {m.name: m for m in _STANDARD}
"""The measure names of the DESIGN contract, with their units and directions."""


def measure_for(name: str, unit: str = "1", direction: Direction = Direction.INFO) -> Measure:
    """Return the standard measure called ``name``, or a new one with the given unit.

    Example:
        >>> measure_for("time").unit
        's'
    """
    return STANDARD_MEASURES.get(name) or Measure(name, unit, direction)


@dataclass(frozen=True)
class Summary:
    """Summary statistics of one measure's samples.

    ``ci_low``/``ci_high`` bound the median (a distribution-free confidence interval).
    """

    n: int
    median: float
    mean: float
    min: float
    max: float
    std: float
    iqr: float
    mad: float
    ci_low: float
    ci_high: float
    ci_level: float = 0.95
    outliers_tukey: int = 0  # samples beyond 1.5 IQR from the quartiles (kept, only counted)
    outliers_modz: int = 0  # samples with |modified z| > 3.5 (kept, only counted)

    @property
    def cv(self) -> float:
        """Robust coefficient of variation: normal-scaled MAD over the median."""
        return self.mad / self.median if self.median else math.inf


@dataclass(frozen=True)
class MeasureResult:
    """The samples of one measure of one case, with their summary.

    Attributes:
        measure: name, unit and direction.
        samples: every sample, in the order measured (for ``time``: seconds per call, one per
            round).
        summary: statistics of ``samples``; None when there are none.
        meta: how the samples were taken (for ``time``: mode, calls_per_round, rounds).
        provenance: measured, derived or modelled, and from what; when not given, the
            measure's usual ``basis`` with no source.

    Example:
        >>> MeasureResult(STANDARD_MEASURES["carbon"], (1.0,)).provenance.basis.value
        'modelled'
    """

    measure: Measure
    samples: tuple[float, ...]
    summary: Summary | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    provenance: Provenance = None  # type: ignore[assignment]  # filled in __post_init__

    def __post_init__(self) -> None:
        if self.provenance is None:
            object.__setattr__(self, "provenance", Provenance(self.measure.basis))


class CaseStatus(str, Enum):
    """How a case ended."""

    OK = "ok"
    ERROR = "error"  # the benchmark raised; its traceback is stored
    CRASHED = "crashed"  # the worker process died (signal, out-of-memory kill)
    TIMEOUT = "timeout"  # the case passed profile.case_timeout and was killed
    SKIPPED = "skipped"


def canonical_params(params: Mapping[str, Any]) -> str:
    """Return the params as canonical JSON (sorted keys), the key that identifies a case.

    Example:
        >>> canonical_params({"n": 2, "dtype": "f32"})
        '{"dtype": "f32", "n": 2}'
    """
    return json.dumps(dict(params), sort_keys=True, default=str)


@dataclass(frozen=True)
class CaseResult:
    """One benchmark at one point of its params grid, as measured.

    Attributes:
        benchmark: the registered benchmark name.
        params: the grid point, as keyword arguments of the factory.
        status: how the case ended.
        measures: measure name -> result.
        error: the traceback or reason when status is not ok.
        started_at: ISO-8601 UTC time the case started.
        duration: wall seconds the whole case took (setup, compile, timing).
        meta: facts about how it ran (worker pid, each profiler's own facts under
            ``profiling``).
        series: per-step values the Workload returned (``Workload(series=...)``), name ->
            values, a non-finite value as None; read by convergence checks.
        artifacts: files written for the case (a profiler trace), name -> ``{"path", "kind",
            "summary"}``; the store records them with the case.
        unavailable: measure name -> why it could not be measured here (never stored as 0).
        profiler_errors: profiler name -> the traceback of a profiler that failed; the case
            and the other profilers went on.
        validation: output comparisons of the benchmark's ``validation:`` block made where the
            case ran; the runner judges them with the run and does not store them here.
    """

    benchmark: str
    params: Mapping[str, Any]
    status: CaseStatus
    measures: Mapping[str, MeasureResult] = field(default_factory=dict)
    error: str | None = None
    started_at: str = ""
    duration: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)
    series: Mapping[str, tuple[float | None, ...]] = field(default_factory=dict)
    artifacts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    unavailable: Mapping[str, str] = field(default_factory=dict)
    profiler_errors: Mapping[str, str] = field(default_factory=dict)
    validation: tuple[Mapping[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """``benchmark`` plus canonical params: equal for the same case across runs."""
        return f"{self.benchmark}{canonical_params(self.params)}"


@dataclass(frozen=True)
class BenchmarkResult:
    """What a benchmark's cases give together, once they are all measured.

    Attributes:
        benchmark: the registered benchmark name.
        complexity: the complexity-class fits of ``time`` over each size sweep of its grid
            (one mapping per size param and fixed values of the others: ``param``, ``fixed``,
            ``sizes``, ``times``, ``best``, ``runner_up``, ``exponent``; see
            :func:`calibrax.analysis.complexity_fits`).
    """

    benchmark: str
    complexity: tuple[Mapping[str, Any], ...] = ()


class RunStatus(str, Enum):
    """How a run ended; ``running`` left by a dead process reads as ``interrupted``."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"  # finished, but at least one case did not end ok
    INTERRUPTED = "interrupted"  # its process died or was killed; finished cases are kept
    SKIPPED = "skipped"  # a sweep job whose hardware target is not here; its cases say why


@dataclass(frozen=True)
class GitInfo:
    """The state of the git checkout a run was started in (all None outside git)."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


@dataclass(frozen=True)
class HardwareInfo:
    """What the run was measured on.

    ``fingerprint`` hashes only the fields that decide whether two runs are comparable.
    """

    backend: str
    device_kind: str
    device_count: int
    cpu_model: str
    cpu_count: int
    memory_bytes: int
    platform: str
    python: str
    versions: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """A stable hash of what decides whether two runs are comparable.

        The machine: backend, device kind and count, CPU model, core count and platform. The
        software that compiles and runs the code: the jax, jaxlib and plugin versions
        (``jax-cuda*``, ``libtpu``) in ``versions``, and ``XLA_FLAGS`` (from ``extra``; flags in
        any order). On accelerators, JAX's memory-pool settings from ``extra["env"]``:
        ``XLA_PYTHON_CLIENT_PREALLOCATE``, ``XLA_PYTHON_CLIENT_MEM_FRACTION`` and
        ``XLA_PYTHON_CLIENT_ALLOCATOR`` (unset reads as JAX's default). A record with none of the
        software facts hashes as the machine alone did before they were added.

        Example:
            >>> a = HardwareInfo("cpu", "cpu", 1, "EPYC", 2, 1 << 30, "Linux", "3.11", extra={"xla_flags": ""})
            >>> b = HardwareInfo("cpu", "cpu", 1, "EPYC", 2, 1 << 30, "Linux", "3.11", extra={"xla_flags": "--x=1"})
            >>> a.fingerprint != b.fingerprint
            True
        """
        parts = [
            self.backend,
            self.device_kind,
            str(self.device_count),
            self.cpu_model,
            str(self.cpu_count),
            self.platform,
        ]
        software = {k: str(v) for k, v in self.versions.items()
                    if k in ("jax", "jaxlib") or k.startswith(("jax-cuda", "jax_cuda", "jax-rocm", "libtpu"))}
        extra = self.extra or {}
        env: Mapping[str, Any] = extra["env"] if isinstance(extra.get("env"), Mapping) else {}
        flags = extra.get("xla_flags", env.get("XLA_FLAGS"))
        if flags is not None and str(flags).split():
            software["XLA_FLAGS"] = " ".join(sorted(str(flags).split()))
        if self.backend != "cpu":
            defaults = {"XLA_PYTHON_CLIENT_PREALLOCATE": "true", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.75",
                        "XLA_PYTHON_CLIENT_ALLOCATOR": "default"}
            for key, default in defaults.items():
                value = str(env.get(key) or default).strip().lower()
                software[key] = {"0": "false", "1": "true"}.get(value, value) if key.endswith("PREALLOCATE") else value
        if software:
            parts.append(json.dumps(software, sort_keys=True))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunInfo:
    """One invocation of ``calibrax-run`` (one job of a sweep)."""

    id: str
    started_at: str
    status: RunStatus
    git: GitInfo = field(default_factory=GitInfo)
    hardware: HardwareInfo | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    sweep_id: str | None = None
    finished_at: str | None = None


class VerdictKind(str, Enum):
    """The outcome of comparing one case and measure with its baseline."""

    PASS = "pass"
    IMPROVED = "improved"
    REGRESSED = "regressed"
    INCONCLUSIVE = "inconclusive"
    UNSTABLE = "unstable"
    INCOMPARABLE = "incomparable"
    MISSING = "missing"


@dataclass(frozen=True)
class Verdict:
    """A verdict for one case and measure against a baseline.

    Attributes:
        ratio: candidate over baseline median (None when either is missing).
        baseline, candidate: the two medians (or values, for single-valued measures).
        margin: the practical margin the verdict used (relative, or absolute for rules).
        ci_low, ci_high: the 95% bootstrap CI of ``ratio``, when samples allowed one.
        p_value: the two-sided Mann-Whitney U p-value; ``p_adjusted`` after the suite-level
            Benjamini-Hochberg correction.
        details: further figures (effect sizes, coefficients of variation, the rule applied).
    """

    benchmark: str
    params: Mapping[str, Any]
    measure: str
    kind: VerdictKind
    ratio: float | None
    baseline: float | None
    candidate: float | None
    margin: float
    message: str
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when this verdict fails the gate."""
        return self.kind is VerdictKind.REGRESSED
