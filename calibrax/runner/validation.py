"""Validation checks that a benchmark's YAML declares, run on its cases, gathered per run.

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

The keys of each check type are the fields of :class:`~calibrax.runner.config.ConvergenceCheckConfig`
and :class:`~calibrax.runner.config.AccuracyCheckConfig`; an unknown type or key is a
ConfigError (exit 2) before anything runs.

Where each check runs: a Workload's ``series`` travel from the worker to the parent in the
case's ``series`` (non-finite values as null), and the parent checks convergence and measured
values. An output comparison needs the arrays, so the worker makes it right after the case and
sends the finished entries back in the case's ``validation``. The parent gathers every
entry into a :class:`~calibrax.validation.ValidationReport` for the store.
"""

from __future__ import annotations

import math
import statistics
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from calibrax.core.checks import ValidationEntry
from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import CaseResult, CaseStatus
from calibrax.core.registry import unknown_name_message
from calibrax.runner.config import AccuracyCheckConfig, ConvergenceCheckConfig, ValidationConfig
from calibrax.validation import (
    ConvergenceCriteria,
    Rate,
    check_accuracy,
    check_convergence,
    compare_outputs,
    entry_from_dict,
    entry_to_dict,
)

__all__ = [
    "ValidationSpec",
    "case_label",
    "check_outputs",
    "gating_violations",
    "parse_validation",
    "series_of",
    "validation_entries",
]

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
        _criteria(c)
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


# In the worker


def series_of(benchmark: str, series: Any) -> dict[str, list[float | None]]:
    """A Workload's ``series`` as JSON-ready lists (non-finite values as None).

    Raises:
        BenchmarkError: ``series`` is not a mapping of 1-D sequences of numbers.

    Example:
        >>> series_of("b", {"loss": [1.0, float("nan")]})
        {'loss': [1.0, None]}
    """
    if callable(series):
        series = series()
    if series is None:
        return {}
    if not isinstance(series, Mapping):
        raise BenchmarkError(
            f"Benchmark {benchmark!r}: Workload.series must give a mapping of name to per-step values, "
            f"got {type(series).__name__}."
        )
    out: dict[str, list[float | None]] = {}
    for name, values in series.items():
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise BenchmarkError(f"Benchmark {benchmark!r}: series {name!r} is not a sequence of numbers ({exc}).") from None
        if arr.ndim != 1:
            raise BenchmarkError(
                f"Benchmark {benchmark!r}: series {name!r} must be 1-D (one value per step), got shape {arr.shape}."
            )
        out[str(name)] = [float(v) if math.isfinite(v) else None for v in arr.tolist()]
    return out


def _output(workload: Any, key: str) -> Any:
    if key == "return":
        return workload.call()
    outputs = workload.outputs() if callable(workload.outputs) else workload.outputs
    if not isinstance(outputs, Mapping) or key not in outputs:
        have = sorted(outputs) if isinstance(outputs, Mapping) else []
        raise BenchmarkError(
            f"the Workload has no output {key!r}; its outputs are {have or 'none'} ('return' is the timed "
            "call's result)."
        )
    return outputs[key]


def check_outputs(benchmark: str, params: Mapping[str, Any], workload: Any, checks: Iterable[Mapping[str, Any]],
                  setup: Callable[..., Any]) -> list[dict[str, Any]]:
    """Compare each checked output of a case with the same benchmark's output at the
    reference params; a check that cannot be made is a failed entry saying why.

    Args:
        benchmark, params: the case.
        workload: its Workload.
        checks: :meth:`ValidationSpec.output_checks` of its benchmark.
        setup: builds the benchmark's Workload for a grid point (``BenchmarkSpec.setup``).

    Returns:
        The entries as dicts (:func:`calibrax.validation.entry_to_dict`), for the case's meta.
    """
    import jax

    entries = []
    for raw in checks:
        check = AccuracyCheckConfig(**raw)
        assert check.output is not None and check.reference_params is not None  # parse_validation made sure
        ref_params = {**params, **check.reference_params}
        name = f"{case_label(benchmark, params)} {check.output} vs {case_label(benchmark, ref_params)}"
        # A carried workload's timed call has advanced its state: compare one call from a fresh
        # state, as the reference makes.
        fresh = check.output == "return" and getattr(workload, "flow", "reuse") != "reuse"
        try:
            out = np.asarray(jax.device_get(_output(setup(**params) if fresh else workload, check.output)))
            with jax.enable_x64(check.x64):
                ref = np.asarray(jax.device_get(_output(setup(**ref_params), check.output)))
            entry = compare_outputs(out, ref, name=name, max_abs=check.max_abs, max_rel=check.max_rel,
                                    max_ulps=check.max_ulps).to_entry()
        except Exception as exc:
            reason = str(exc) or traceback.format_exc(limit=2)
            entry = ValidationEntry("error", name, False, f"{name} could not be compared: {reason}", {})
        entries.append(entry_to_dict(entry))
    return entries


# In the parent


def _criteria(c: ConvergenceCheckConfig) -> ConvergenceCriteria:
    return ConvergenceCriteria(tuple(c.tolerances), c.target, c.relative, c.plateau_window, c.plateau_tol,
                               c.divergence_factor)


def _convergence_entry(spec: ValidationSpec, case: CaseResult, c: ConvergenceCheckConfig, i: int) -> ValidationEntry:
    label = f"{case_label(case.benchmark, case.params)} {c.series}"
    available = case.series
    if c.series not in available:
        have = f"series {', '.join(sorted(available))}" if available else "no series"
        return ValidationEntry("convergence", label, False, (
            f"{label}: the convergence check validation.checks[{i}] of {spec.where} reads series {c.series!r}, but "
            f"the Workload returns {have}; return it with calibrax.Workload(..., series={{{c.series!r}: values}}) "
            "or name a returned series."), {"status": "missing", "available": sorted(available)})
    values = [math.nan if v is None else float(v) for v in available[c.series]]
    try:
        result = check_convergence(values, _criteria(c), name=label)
    except ConfigError as exc:
        return ValidationEntry("convergence", label, False, f"{label}: {exc}", {"status": "invalid"})
    entry = result.to_entry()
    problems = []
    if c.max_steps is not None:
        late = [f"{t:g} at step {s}" for t, s in result.reached.items() if s is not None and s > c.max_steps]
        if late:
            problems.append(f"met {', '.join(late)}, after max_steps={c.max_steps}")
    if c.rate is not None and result.rate.rate.value != c.rate:
        problems.append(f"its rate is {result.rate.rate.value}, not the expected {c.rate}")
    figures = {**entry.figures, "max_steps": c.max_steps, "expected_rate": c.rate}
    if problems:
        return replace(entry, passed=False, message=f"{entry.message} Violation: {'; '.join(problems)}.",
                       figures=figures)
    return replace(entry, figures=figures)


def _value_entry(spec: ValidationSpec, case: CaseResult, c: AccuracyCheckConfig, i: int) -> ValidationEntry:
    assert c.measure is not None and c.reference is not None  # parse_validation made sure
    label = f"{case_label(case.benchmark, case.params)} {c.measure}"
    m = case.measures.get(c.measure)
    if m is None or not m.samples:
        return ValidationEntry("accuracy", label, False, (
            f"{label}: the accuracy check validation.checks[{i}] of {spec.where} reads measure {c.measure!r}, "
            f"but the case has only {', '.join(sorted(case.measures)) or 'no measures'}."), {"status": "missing"})
    value = statistics.median(m.samples)
    return check_accuracy(value, c.reference, name=label, better=c.better,  # type: ignore[arg-type]
                          margin=c.margin, relative=c.relative).to_entry()


def validation_entries(specs: Mapping[str, ValidationSpec], cases: Sequence[CaseResult],
                       worker_entries: Mapping[int, Sequence[Mapping[str, Any]]] | None = None) -> list[ValidationEntry]:
    """Every check of every finished case, in case order and then in the order of the YAML's
    ``checks``; each entry's figures say its ``benchmark``, ``params`` and whether it ``gate``s.

    Cases that did not end ok are not checked: their status already fails the run.

    Args:
        specs: benchmark name -> its validation spec.
        cases: the run's cases in measured order.
        worker_entries: case position -> the entries its worker made (output comparisons).
    """
    out: list[ValidationEntry] = []
    for pos, case in enumerate(cases):
        spec = specs.get(case.benchmark)
        if spec is None or case.status is not CaseStatus.OK:
            continue
        made = [(i, _convergence_entry(spec, case, c, i)) for i, c in spec.convergence]
        made += [(i, _value_entry(spec, case, c, i)) for i, c in spec.values]
        from_worker = (worker_entries or {}).get(pos, ())
        made += [(i, entry_from_dict(e)) for (i, _), e in zip(spec.outputs, from_worker, strict=False)]
        tags = {"benchmark": case.benchmark, "params": dict(case.params), "gate": spec.gate}
        out += [replace(e, figures={**e.figures, **tags}) for _, e in sorted(made, key=lambda ie: ie[0])]
    return out


def gating_violations(entries: Iterable[ValidationEntry]) -> list[ValidationEntry]:
    """The violations of benchmarks whose ``validation.gate`` is true: these fail the run."""
    return [e for e in entries if not e.passed and e.figures.get("gate")]

