"""validation: convergence of loss series, accuracy against references, a report per run.

Processing layer: imports calibrax.core and calibrax.statistics only. JAX is imported only by
:func:`compare_precisions`, when it is called.
"""

from calibrax.validation.accuracy import (
    AccuracyResult,
    ErrorFigures,
    check_accuracy,
    compare_outputs,
    compare_precisions,
    ulp,
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
from calibrax.validation.framework import (
    Checked,
    ValidationReport,
    entry_from_dict,
    entry_to_dict,
    validation_report,
)

__all__ = [
    "AccuracyResult",
    "Checked",
    "ConvergenceCriteria",
    "ConvergenceResult",
    "ConvergenceStatus",
    "ErrorFigures",
    "Rate",
    "RateEstimate",
    "ValidationReport",
    "check_accuracy",
    "check_convergence",
    "common_tolerance",
    "compare_outputs",
    "compare_precisions",
    "entry_from_dict",
    "entry_to_dict",
    "estimate_rate",
    "ulp",
    "validation_report",
]
