"""The quality metrics a benchmark's YAML declares, read into frozen specs and computed on a
Workload's outputs.

A benchmark's YAML names metrics of the registry::

    metrics:
      - accuracy                                   # metric(outputs["predictions"], outputs["targets"])
      - {name: ece, predictions: probabilities}    # metric(outputs["probabilities"], outputs["targets"])
      - {name: fbeta, kwargs: {beta: 2.0}}

:func:`parse_metric_specs` reads the list into :class:`MetricSpec` records when the run is
planned (an unknown metric, key or input role is a ConfigError naming it, with close matches);
:func:`compute_metrics` computes them on a case's outputs, each a measure with its registry
direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import Basis, Direction, Measure, MeasureResult, Provenance
from calibrax.core.registry import unknown_name_message
from calibrax.metrics._api import compute, get
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.registry import MetricEntry

__all__ = ["MetricSpec", "compute_metrics", "parse_metric_specs"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a benchmark: its name, which outputs feed its inputs, and extra arguments.

    Each input role the metric's registry entry declares (``predictions``, ``targets``,
    ``generated``, ``real``, ...) reads the output of the same name unless ``inputs`` maps it to
    another; ``predictions`` and ``targets`` are shorthands for the two commonest roles.

    Example:
        >>> MetricSpec("ece", predictions="probabilities").output_keys(["predictions", "targets"])
        ['probabilities', 'targets']
    """

    name: str  # a metric of the registry (calibrax metrics list)
    predictions: str = "predictions"  # the output key the predictions role reads
    targets: str = "targets"  # the output key the targets role reads
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # extra keyword arguments of the metric
    inputs: Mapping[str, str] = field(default_factory=dict)  # input role -> output key

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready values (it travels to worker processes so)."""
        return {"name": self.name, "predictions": self.predictions, "targets": self.targets,
                "kwargs": dict(self.kwargs), "inputs": dict(self.inputs)}

    def output_keys(self, roles: Sequence[str]) -> list[str]:
        """The output key each of ``roles`` (the metric's inputs, in call order) reads."""
        shorthand = {"predictions": self.predictions, "targets": self.targets}
        return [self.inputs.get(role) or shorthand.get(role, role) for role in roles]


_KEYS = [f.name for f in fields(MetricSpec)]


def _spec_of(where: str, item: Any) -> MetricSpec:
    """One entry of ``metrics``, a name or a mapping, as a spec; each bad key named."""
    if isinstance(item, str):
        return MetricSpec(item)
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: each entry of 'metrics' is a metric name or a mapping with keys {_KEYS} "
                          f"(name required), got {item!r}.")
    for key in item:
        if key not in _KEYS:
            raise ConfigError(f"{where}: " + unknown_name_message("key", str(key), _KEYS))
    if not isinstance(item.get("name"), str):
        raise ConfigError(f"{where}.name must be a metric name such as accuracy, got {item.get('name')!r}.")
    for key in ("predictions", "targets"):
        if not isinstance(item.get(key, ""), str):
            raise ConfigError(f"{where}.{key} must be an output key (a string), got {item[key]!r}.")
    for key in ("kwargs", "inputs"):
        if not isinstance(item.get(key) or {}, Mapping):
            raise ConfigError(f"{where}.{key} must be a mapping, e.g. {key}: {{beta: 2.0}}, got {item[key]!r}.")
    return MetricSpec(item["name"], item.get("predictions", "predictions"), item.get("targets", "targets"),
                      dict(item.get("kwargs") or {}), {str(k): str(v) for k, v in (item.get("inputs") or {}).items()})


def parse_metric_specs(benchmark: str, items: Sequence[Any]) -> list[MetricSpec]:
    """Check a benchmark's ``metrics`` list against the metrics registry.

    Raises:
        ConfigError: an entry that is neither a name nor a mapping, an unknown key (with close
            matches), a value of the wrong kind, or an input role the metric does not have.
        NotFoundError: an unknown metric name (with close matches).

    Example:
        >>> [s.name for s in parse_metric_specs("b", ["accuracy", {"name": "mae"}])]
        ['accuracy', 'mae']
    """
    specs = []
    for i, item in enumerate(items):
        spec = _spec_of(f"Benchmark {benchmark!r}: metrics[{i}]", item)
        roles = get(spec.name).inputs
        unknown = sorted(set(spec.inputs) - set(roles))
        if unknown:
            raise ConfigError(
                f"Benchmark {benchmark!r}: metric {spec.name!r} has no input role(s) {unknown} in 'inputs'; its "
                f"inputs are, in order: {', '.join(roles)}. Map each to an output key, e.g. "
                f"inputs: {{{roles[0]}: my_output}}."
            )
        specs.append(spec)
    return specs


def _evaluate(entry: MetricEntry, spec: MetricSpec, inputs: list[Any]) -> Any:
    """The metric's value on ``inputs``: jitted when the metric allows it and its inputs are
    numeric arrays (one compile of the whole metric, where eager dispatch compiles each
    operation: 0.3 s against 1.9 s for roc_auc on 64 rows here), eagerly otherwise, and
    eagerly again when it reads something from the values that jit cannot see (the eager call
    then gives the result, or the error a user would get without jit)."""
    import numpy as np

    arrays = [np.asarray(x) if isinstance(x, (list, tuple)) else x for x in inputs]
    if not entry.jit_compatible or any(getattr(x, "dtype", np.dtype(object)).kind not in "biuf" for x in arrays):
        return compute(spec.name, *inputs, **spec.kwargs)
    import jax

    try:
        return jax.jit(lambda *xs: compute(spec.name, *xs, **spec.kwargs))(*arrays)
    except (jax.errors.JAXTypeError, jax.errors.JAXIndexError, MetricInputError):
        return compute(spec.name, *inputs, **spec.kwargs)  # e.g. num_classes read from the labels


def compute_metrics(benchmark: str, outputs: Any, specs: Sequence[MetricSpec]) -> dict[str, MeasureResult]:
    """Compute every metric on the workload's outputs (a mapping, or a callable giving one).

    Raises:
        BenchmarkError: the workload declares no outputs, or lacks a key a metric reads.

    Example:
        >>> out = compute_metrics("b", {"predictions": [1.0, 3.0], "targets": [2.0, 3.0]}, [MetricSpec("mae")])
        >>> out["mae"].samples
        (0.5,)
    """
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
        entry = get(spec.name)
        keys = spec.output_keys(entry.inputs)
        missing = [k for k in keys if k not in outputs]
        if missing:
            raise BenchmarkError(
                f"Metric {spec.name!r} of benchmark {benchmark!r} reads outputs {missing} (for its inputs "
                f"{', '.join(entry.inputs)}), but the Workload's outputs have only {sorted(outputs)}; return them, "
                "or map the inputs to other outputs with inputs: {role: key} in the benchmark YAML."
            )
        value = float(_evaluate(entry, spec, [outputs[k] for k in keys]))
        source = f"metric {spec.name}({', '.join(keys)}) on the Workload's outputs"
        out[spec.name] = MeasureResult(Measure(spec.name, "1", Direction(entry.direction), f"quality metric {spec.name}"),
                                       (value,), provenance=Provenance(Basis.MEASURED, source, tuple(keys)))
    return out
