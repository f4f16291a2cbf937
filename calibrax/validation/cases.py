"""The declared validation checks, made on a run's cases.

Where each check runs: a Workload's ``series`` travel from the worker to the parent in the
case's ``series`` (non-finite values as null), and the parent checks convergence and measured
values (:func:`validation_entries`). An output comparison needs the arrays, so the worker makes
it right after the case (:func:`check_outputs`) and sends the finished entries back in the
case's ``validation``. :func:`judge_validation` gathers every entry into a
:class:`~calibrax.validation.ValidationReport` for the store.
"""

from __future__ import annotations

import math
import statistics
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from calibrax.core.checks import ValidationEntry
from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import CaseResult, CaseStatus
from calibrax.validation.accuracy import check_accuracy, compare_outputs
from calibrax.validation.convergence import check_convergence
from calibrax.validation.declared import AccuracyCheckConfig, ConvergenceCheckConfig, ValidationSpec, case_label
from calibrax.validation.framework import ValidationReport, entry_from_dict, entry_to_dict, validation_report

__all__ = ["check_outputs", "gating_violations", "judge_validation", "series_of", "validation_entries"]


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
        result = check_convergence(values, c.criteria(), name=label)
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



def judge_validation(run_id: str, specs: Mapping[str, ValidationSpec], cases: Sequence[CaseResult],
                     worker_entries: Mapping[int, Sequence[Mapping[str, Any]]] | None = None) -> ValidationReport | None:
    """The validation report of a run: every declared check on every finished case.

    Args:
        run_id: the run checked.
        specs: benchmark name -> its validation spec (:func:`~calibrax.validation.parse_validation`).
        cases: the run's cases in measured order.
        worker_entries: case position -> the entries its worker made (output comparisons).

    Returns:
        The report (it gates when any benchmark's ``validation.gate`` is true), or None when no
        benchmark declares checks.

    Example:
        >>> from calibrax.core.models import CaseResult, CaseStatus
        >>> from calibrax.validation import parse_validation
        >>> spec = parse_validation("b", {"checks": [{"type": "accuracy", "measure": "acc", "reference": 1}]})
        >>> report = judge_validation("r1", {"b": spec}, [CaseResult("b", {}, CaseStatus.OK)])
        >>> report.entries[0].passed, report.gate
        (False, False)
    """
    if not specs:
        return None
    entries = validation_entries(specs, cases, worker_entries)
    return validation_report(run_id, entries, gate=any(s.gate for s in specs.values()))
