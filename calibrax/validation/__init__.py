"""validation: convergence of loss series, accuracy against references, a report per run.

Processing layer: imports calibrax.core and calibrax.statistics only. JAX is imported only by
:func:`compare_precisions` and :func:`check_outputs`, when they are called. A benchmark's
``validation:`` block is read into frozen typed checks by :func:`parse_validation`
(``declared.py``) and made on a run's cases by :func:`check_outputs` (in the worker) and
:func:`judge_validation` (in the parent) (``cases.py``).
"""

from calibrax.validation.accuracy import (
    AccuracyResult,
    ErrorFigures,
    check_accuracy,
    compare_outputs,
    compare_precisions,
    ulp,
)
from calibrax.validation.cases import (
    check_outputs,
    gating_violations,
    judge_validation,
    series_of,
    validation_entries,
)
from calibrax.validation.convergence import (
    ConvergenceCriteria,
    ConvergenceResult,
    ConvergenceStatus,
    Rate,
    RateEstimate,
    check_convergence,
    common_tolerance,
    estimate_rate,
)
from calibrax.validation.declared import (
    AccuracyCheckConfig,
    ConvergenceCheckConfig,
    ValidationConfig,
    ValidationSpec,
    case_label,
    parse_validation,
)
from calibrax.validation.framework import (
    Checked,
    ValidationReport,
    entry_from_dict,
    entry_to_dict,
    validation_report,
)

__all__ = [
    "AccuracyCheckConfig",
    "AccuracyResult",
    "Checked",
    "ConvergenceCheckConfig",
    "ConvergenceCriteria",
    "ConvergenceResult",
    "ConvergenceStatus",
    "ErrorFigures",
    "Rate",
    "RateEstimate",
    "ValidationConfig",
    "ValidationReport",
    "ValidationSpec",
    "case_label",
    "check_accuracy",
    "check_convergence",
    "check_outputs",
    "common_tolerance",
    "compare_outputs",
    "compare_precisions",
    "entry_from_dict",
    "entry_to_dict",
    "estimate_rate",
    "gating_violations",
    "judge_validation",
    "parse_validation",
    "series_of",
    "ulp",
    "validation_entries",
    "validation_report",
]
