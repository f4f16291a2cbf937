"""Quality metrics of a benchmark, computed on its Workload's outputs and stored as measures.

A benchmark's YAML names metrics from :mod:`calibrax.metrics`::

    metrics:
      - accuracy                                   # metric(outputs["predictions"], outputs["targets"])
      - {name: ece, predictions: probabilities}    # metric(outputs["probabilities"], outputs["targets"])
      - {name: fbeta, kwargs: {beta: 2.0}}
    thresholds:
      accuracy: {min: 0.9}                         # an absolute bound gates the run (exit 1)

The Workload's ``outputs`` is a mapping of arrays (or a zero-argument callable returning one,
called once after timing). Each metric becomes a measure with its registry direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calibrax.analysis import GatePolicy, Pair, judge
from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import (
    Basis,
    CaseResult,
    CaseStatus,
    Direction,
    Measure,
    MeasureResult,
    Provenance,
    Verdict,
)

__all__ = ["MetricSpec", "compute_metrics", "parse_metric_specs", "threshold_verdicts"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a benchmark: its name, which outputs feed its inputs, and extra arguments.

    Each input role the metric's registry entry declares (``predictions``, ``targets``,
    ``generated``, ``real``, ...) reads the output of the same name unless ``inputs`` maps it to
    another; ``predictions`` and ``targets`` are shorthands for the two commonest roles.
    """

    name: str
    predictions: str = "predictions"
    targets: str = "targets"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)  # input role -> output key

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "predictions": self.predictions, "targets": self.targets,
                "kwargs": dict(self.kwargs), "inputs": dict(self.inputs)}

    def output_keys(self, roles: Sequence[str]) -> list[str]:
        """The output key each of ``roles`` (the metric's inputs, in call order) reads."""
        shorthand = {"predictions": self.predictions, "targets": self.targets}
        return [self.inputs.get(role) or shorthand.get(role, role) for role in roles]


def parse_metric_specs(benchmark: str, items: Sequence[Any]) -> list[MetricSpec]:
    """Check a benchmark's ``metrics`` list against the metrics registry.

    Raises:
        ConfigError: an entry that is neither a name nor a mapping with ``name``.
        NotFoundError: an unknown metric name (with close matches).
    """
    import calibrax.metrics as cm

    specs = []
    allowed = {"name", "predictions", "targets", "kwargs", "inputs"}
    for item in items:
        if isinstance(item, str):
            spec = MetricSpec(item)
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str) and set(item) <= allowed:
            spec = MetricSpec(item["name"], str(item.get("predictions", "predictions")),
                              str(item.get("targets", "targets")), dict(item.get("kwargs") or {}),
                              {str(k): str(v) for k, v in (item.get("inputs") or {}).items()})
        else:
            raise ConfigError(
                f"Benchmark {benchmark!r}: each entry of 'metrics' is a metric name or a mapping with keys "
                f"{sorted(allowed)} (name required), got {item!r}."
            )
        roles = cm.get(spec.name).inputs
        unknown = sorted(set(spec.inputs) - set(roles))
        if unknown:
            raise ConfigError(
                f"Benchmark {benchmark!r}: metric {spec.name!r} has no input role(s) {unknown} in 'inputs'; its "
                f"inputs are, in order: {', '.join(roles)}. Map each to an output key, e.g. "
                f"inputs: {{{roles[0]}: my_output}}."
            )
        specs.append(spec)
    return specs


def compute_metrics(benchmark: str, outputs: Any, specs: Sequence[MetricSpec]) -> dict[str, MeasureResult]:
    """Compute every metric on the workload's outputs.

    Raises:
        BenchmarkError: the workload declares no outputs, or lacks a key a metric reads.
    """
    import calibrax.metrics as cm

    if callable(outputs):
        outputs = outputs()
    if not isinstance(outputs, Mapping):
        raise BenchmarkError(
            f"Benchmark {benchmark!r} declares metrics but its Workload has no outputs mapping "
            f"(got {type(outputs).__name__}); return calibrax.Workload(..., outputs={{'predictions': ..., "
            "'targets': ...}})."
        )
    out = {}
    for spec in specs:
        entry = cm.get(spec.name)
        keys = spec.output_keys(entry.inputs)
        missing = [k for k in keys if k not in outputs]
        if missing:
            raise BenchmarkError(
                f"Metric {spec.name!r} of benchmark {benchmark!r} reads outputs {missing} (for its inputs "
                f"{', '.join(entry.inputs)}), but the Workload's outputs have only {sorted(outputs)}; return them, "
                "or map the inputs to other outputs with inputs: {role: key} in the benchmark YAML."
            )
        value = float(cm.compute(spec.name, *(outputs[k] for k in keys), **spec.kwargs))
        source = f"metric {spec.name}({', '.join(keys)}) on the Workload's outputs"
        out[spec.name] = MeasureResult(Measure(spec.name, "1", Direction(entry.direction), f"quality metric {spec.name}"),
                                       (value,), provenance=Provenance(Basis.MEASURED, source, tuple(keys)))
    return out


def threshold_verdicts(cases: Sequence[CaseResult], policy: GatePolicy) -> list[Verdict]:
    """Verdicts of every absolute bound (``min``/``max``) on the measured cases; no baseline needed."""
    pairs = []
    for case in cases:
        if case.status is not CaseStatus.OK:
            continue
        for name in policy.gated(case.benchmark):
            rule = policy.rule(case.benchmark, name)
            if rule.rule == "absolute" and (rule.min is not None or rule.max is not None) and name in case.measures:
                m = case.measures[name]
                pairs.append(Pair(case.benchmark, case.params, m.measure, None, tuple(m.samples) or None))
    return judge(pairs, policy) if pairs else []
