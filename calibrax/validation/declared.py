"""The ``validation:`` block a benchmark's YAML declares, read into frozen typed checks.

A benchmark file may declare::

    validation:
      gate: true                    # a violation fails the run (exit 1); false: stored only
      checks:
        - type: convergence         # a series the Workload returns reaches its tolerances
          series: loss
          tolerances: [0.1, 0.02]
          max_steps: 150
        - type: accuracy            # a measure against a reference value
          measure: accuracy
          reference: 0.9
          better: higher
        - type: accuracy            # an output against the same benchmark at other params
          output: return
          reference_params: {dtype: float64}
          max_rel: 1e-5

The keys of each check type are the fields of :class:`ConvergenceCheckConfig` and
:class:`AccuracyCheckConfig`; :func:`parse_validation` turns the block into a
:class:`ValidationSpec` of those frozen records, and an unknown type or key, a mistyped value or
a check that is not well formed is a ConfigError naming the file, the key and what is allowed.
The checks themselves run in :mod:`calibrax.validation.cases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from calibrax.core.errors import ConfigError
from calibrax.core.registry import unknown_name_message
from calibrax.validation.convergence import ConvergenceCriteria, Rate

__all__ = [
    "AccuracyCheckConfig",
    "ConvergenceCheckConfig",
    "ValidationConfig",
    "ValidationSpec",
    "case_label",
    "parse_validation",
]


@dataclass(frozen=True)
class ConvergenceCheckConfig:
    """``type: convergence``: a series the Workload returns must reach its tolerances."""

    type: str = "convergence"
    series: str = MISSING  # a name in the Workload's series (Workload(..., series={"loss": ...}))
    tolerances: list[float] = MISSING  # errors |x - target| to reach (> 0), e.g. [0.1, 0.01]
    target: float = 0.0  # the value the series should approach (0 for a loss)
    relative: bool = False  # read tolerances as fractions of the first error
    max_steps: int | None = None  # every tolerance must be met by this step (0-based); null: any step
    rate: str | None = None  # expected rate: linear, sublinear or superlinear; null: not checked
    plateau_window: int = 20  # steps without progress that make a plateau (>= 2)
    plateau_tol: float = 1e-3  # relative improvement over the window that still counts as progress
    divergence_factor: float = 10.0  # an error this many times its best so far is divergence (> 1)

    def criteria(self) -> ConvergenceCriteria:
        """The check as :class:`~calibrax.validation.ConvergenceCriteria` (which checks its values).

        Example:
            >>> ConvergenceCheckConfig(series="loss", tolerances=[0.1]).criteria().tolerances
            (0.1,)
        """
        return ConvergenceCriteria(tuple(self.tolerances), self.target, self.relative, self.plateau_window,
                                   self.plateau_tol, self.divergence_factor)


@dataclass(frozen=True)
class AccuracyCheckConfig:
    """``type: accuracy``: a measured value against a reference value (``measure`` and
    ``reference``), or an output against the same benchmark's output at other params (``output``
    and ``reference_params``, e.g. float32 against float64)."""

    type: str = "accuracy"
    measure: str | None = None  # a measure of the case (its median), e.g. accuracy or log_loss
    reference: float | None = None  # the value to compare the measure with
    better: str = "equal"  # higher, lower or equal: which side of the reference is allowed
    margin: float = 0.0  # allowed distance from the reference (a fraction of it when relative)
    relative: bool = False  # read margin as a fraction of |reference|
    output: str | None = None  # a key of the Workload's outputs; "return" for the timed call's result
    reference_params: dict[str, Any] | None = None  # params that give the reference, e.g. {dtype: float64}
    x64: bool = True  # compute the reference with 64-bit JAX types enabled
    max_abs: float | None = None  # bound on the largest absolute error
    max_rel: float | None = None  # bound on the largest relative error
    max_ulps: float | None = None  # bound on the largest error in ULPs of the output's dtype


@dataclass
class ValidationConfig:
    """A benchmark's ``validation:`` block as its YAML gives it (the schema of the benchmark file):
    checks run on every case, stored per run. :func:`parse_validation` types each check."""

    gate: bool = False  # true: a violation fails the run (exit 1); false: stored and reported only
    checks: list[Any] = field(default_factory=list)  # ConvergenceCheckConfig / AccuracyCheckConfig mappings



_TYPES: dict[str, type[ConvergenceCheckConfig] | type[AccuracyCheckConfig]] = {
    "convergence": ConvergenceCheckConfig,
    "accuracy": AccuracyCheckConfig,
}
_RATES = [r.value for r in Rate if r is not Rate.UNKNOWN]
_BETTER = ["higher", "lower", "equal"]


@dataclass(frozen=True)
class ValidationSpec:
    """The checked ``validation:`` block of one benchmark.

    Attributes:
        benchmark: the benchmark's name.
        gate: whether its violations fail the run.
        convergence: ``(index in checks, check)`` of each convergence check, made by the parent
            on the returned series.
        values: ``(index in checks, check)`` of each accuracy check of a measure against a
            value, made by the parent.
        outputs: ``(index in checks, check)`` of each accuracy check of an output against a
            reference output, made by the worker.
        where: the file (or config path) the block came from, for messages.
    """

    benchmark: str
    gate: bool = False
    convergence: tuple[tuple[int, ConvergenceCheckConfig], ...] = ()
    values: tuple[tuple[int, AccuracyCheckConfig], ...] = ()
    outputs: tuple[tuple[int, AccuracyCheckConfig], ...] = ()
    where: str = ""

    @property
    def empty(self) -> bool:
        """True when the block declares no check."""
        return not (self.convergence or self.values or self.outputs)

    def output_checks(self) -> list[dict[str, Any]]:
        """The output checks as JSON-ready dicts, for the worker process."""
        return [asdict(c) for _, c in self.outputs]


def _typed(where: str, key: str, cls: type[Any], raw: Mapping[str, Any]) -> Any:
    """``raw`` as an instance of the dataclass ``cls``; each mistyped key named."""
    allowed = [f.name for f in fields(cls)]
    for name in raw:
        if name not in allowed:
            raise ConfigError(f"{where}: {key}: " + unknown_name_message("key", str(name), allowed))
    schema = OmegaConf.structured(cls)
    for name, value in raw.items():
        try:
            OmegaConf.merge(schema, {name: value})
        except OmegaConfBaseException:
            hint = next((f.type for f in fields(cls) if f.name == name), "?")
            raise ConfigError(f"{where}: {key}.{name} must be of type {hint}, got {value!r}.") from None
    try:
        return OmegaConf.to_object(OmegaConf.merge(schema, dict(raw)))
    except MissingMandatoryValue as exc:
        missing = str(exc.full_key or exc.key or "?").rsplit(".", 1)[-1]
        raise ConfigError(f"{where}: {key} needs {missing!r} (see README, 'Validation').") from None


def _check_convergence_config(where: str, key: str, c: ConvergenceCheckConfig) -> None:
    if c.rate is not None and c.rate not in _RATES:
        raise ConfigError(f"{where}: {key}.rate: " + unknown_name_message("rate", c.rate, _RATES))
    if c.max_steps is not None and c.max_steps < 0:
        raise ConfigError(f"{where}: {key}.max_steps must be a step number >= 0, got {c.max_steps}.")
    try:
        c.criteria()
    except ConfigError as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from None


def _check_accuracy_config(where: str, key: str, c: AccuracyCheckConfig) -> None:
    if c.better not in _BETTER:
        raise ConfigError(f"{where}: {key}.better: " + unknown_name_message("choice", c.better, _BETTER))
    by_value = c.measure is not None or c.reference is not None
    by_output = c.output is not None or c.reference_params is not None
    if by_value == by_output or (by_value and (c.measure is None or c.reference is None)) or (
        by_output and (c.output is None or c.reference_params is None)
    ):
        raise ConfigError(
            f"{where}: {key} must give either 'measure' and 'reference' (a measured value against a "
            "value) or 'output' and 'reference_params' (an output against the same benchmark at other "
            f"params, e.g. {{dtype: float64}}); got {_set_keys(c)}."
        )
    if c.margin < 0:
        raise ConfigError(f"{where}: {key}.margin must be >= 0, got {c.margin}.")


def _set_keys(c: AccuracyCheckConfig) -> list[str]:
    return [k for k in ("measure", "reference", "output", "reference_params") if getattr(c, k) is not None]


def parse_validation(benchmark: str, raw: Mapping[str, Any] | None, where: str = "") -> ValidationSpec | None:
    """Check a benchmark's ``validation:`` block and return its spec (None when it has no checks).

    Args:
        benchmark: the benchmark's name.
        raw: the block as plain containers.
        where: the file it came from, named in messages.

    Raises:
        ConfigError: an unknown check type or key, a mistyped value, or a check that is not
            well formed; the message names the file, the key and the allowed values.

    Example:
        >>> spec = parse_validation("b", {"gate": True, "checks": [
        ...     {"type": "convergence", "series": "loss", "tolerances": [0.1]}]})
        >>> spec.gate, spec.convergence[0][1].series
        (True, 'loss')
    """
    where = where or f"Benchmark {benchmark!r}"
    block = _typed(where, "validation", ValidationConfig, dict(raw or {}))
    convergence: list[tuple[int, ConvergenceCheckConfig]] = []
    values: list[tuple[int, AccuracyCheckConfig]] = []
    outputs: list[tuple[int, AccuracyCheckConfig]] = []
    for i, item in enumerate(block.checks):
        key = f"validation.checks[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: {key} must be a mapping with a 'type' ({', '.join(_TYPES)}), got {item!r}.")
        kind = item.get("type")
        if kind is None:
            raise ConfigError(f"{where}: {key} needs 'type': one of {', '.join(_TYPES)}.")
        if kind not in _TYPES:
            raise ConfigError(f"{where}: {key}.type: " + unknown_name_message("check type", str(kind), list(_TYPES)))
        check = _typed(where, key, _TYPES[kind], item)
        if isinstance(check, ConvergenceCheckConfig):
            _check_convergence_config(where, key, check)
            convergence.append((i, check))
        else:
            _check_accuracy_config(where, key, check)
            if check.measure is not None:
                values.append((i, check))
            else:
                outputs.append((i, check))
    spec = ValidationSpec(benchmark, bool(block.gate), tuple(convergence), tuple(values), tuple(outputs), where)
    return None if spec.empty else spec


def case_label(benchmark: str, params: Mapping[str, Any]) -> str:
    """How a case is named in validation entries.

    Example:
        >>> case_label("mlp", {"steps": 200, "classes": 4})
        'mlp[steps=200 classes=4]'
    """
    return f"{benchmark}[{' '.join(f'{k}={v}' for k, v in params.items())}]"

