"""What the experiment-tracker exporters (W&B, MLflow) share: flat metrics, rows, lazy imports.

A tracker exporter sends the run to a tracking service and writes a small JSON receipt (where
the run went) as its file, so ``export_all`` treats it like any other exporter.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from calibrax.core import CaseStatus, ExporterError, RunRecord
from calibrax.exporters import _rows, _text

__all__ = ["case_rows", "flat_config", "import_extra", "measure_names", "metric_key", "receipt", "summary_metrics"]


def import_extra(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or say which calibrax extra installs it.

    Raises:
        ExporterError: the module is not installed; the message names ``pip install calibrax[extra]``.

    Example:
        >>> import_extra("json", "none").__name__
        'json'
        >>> import_extra("no_such_module_here", "wandb")
        Traceback (most recent call last):
        ...
        calibrax.core.errors.ExporterError: The wandb exporter needs the no_such_module_here package, which is not installed: pip install calibrax[wandb]
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        raise ExporterError(
            f"The {extra} exporter needs the {missing} package, which is not installed: "
            f"pip install calibrax[{extra}]"
        ) from exc


def metric_key(benchmark: str, params: Mapping[str, Any], measure: str) -> str:
    """The key of one measured value: ``benchmark/params/measure``.

    Example:
        >>> metric_key("matmul", {"n": 256, "dtype": "float32"}, "time")
        'matmul/n=256,dtype=float32/time'
    """
    text = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{benchmark}/{text}/{measure}"


def summary_metrics(record: RunRecord) -> dict[str, float]:
    """Every finite median of every ok case, keyed by :func:`metric_key`.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> summary_metrics(RunRecord(RunInfo(id="r", started_at="", status=RunStatus.OK), ()))
        {}
    """
    out: dict[str, float] = {}
    for case in record.cases:
        if case.status is not CaseStatus.OK:
            continue
        for name, result in case.measures.items():
            if result.summary is not None and math.isfinite(result.summary.median):
                out[metric_key(case.benchmark, case.params, name)] = result.summary.median
    return out


def measure_names(record: RunRecord) -> list[str]:
    """Every measure name of the record, in the order first measured."""
    return list(dict.fromkeys(name for case in record.cases for name in case.measures))


def case_rows(record: RunRecord) -> tuple[list[str], list[list[Any]]]:
    """A table of cases: columns and one row per case (medians per measure, the time verdict).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> case_rows(RunRecord(RunInfo(id="r", started_at="", status=RunStatus.OK), ()))[0]
        ['benchmark', 'params', 'status', 'error', 'verdict', 'ratio']
    """
    measures = measure_names(record)
    verdicts = _rows.verdicts_by_case(record)
    columns = ["benchmark", "params", "status", "error", *measures, "verdict", "ratio"]
    rows = []
    for case in record.cases:
        medians = []
        for name in measures:
            result = case.measures.get(name)
            median = result.summary.median if result and result.summary else None
            medians.append(median if median is not None and math.isfinite(median) else None)
        verdict = verdicts.get(case.key)
        rows.append(
            [
                case.benchmark,
                _text.format_params(case.params),
                case.status.value,
                _text.error_headline(case.error),
                *medians,
                verdict.kind.value if verdict else None,
                verdict.ratio if verdict else None,
            ]
        )
    return columns, rows


def flat_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a nested config into ``a.b.c`` keys with text values (lists as JSON).

    Example:
        >>> flat_config({"profile": {"name": "quick", "min_rounds": 5}, "benchmarks": ["a", "b"]})
        {'profile.name': 'quick', 'profile.min_rounds': '5', 'benchmarks': '["a", "b"]'}
    """
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flat_config(value, f"{name}."))
        elif isinstance(value, (list, tuple, Mapping)):
            out[name] = json.dumps(value, default=str)
        else:
            out[name] = str(value)
    return out


def receipt(**facts: Any) -> str:
    """The text a tracker exporter writes as its file: where the run was sent, as JSON.

    Example:
        >>> receipt(tracker="mlflow", run_id="abc").splitlines()[1]
        '  "tracker": "mlflow",'
    """
    return json.dumps(facts, indent=2, default=str) + "\n"
