"""core: the foundation layer of calibrax.

Data records, the registry, workload adapters, the benchmark decorator and the error
hierarchy. Imports no other calibrax module and never imports JAX at import time.
"""

from calibrax.core.adapters import (
    as_workload,
    from_callable,
    from_jitted,
    from_nnx_module,
    from_train_step,
)
from calibrax.core.benchmark import BENCHMARKS, BenchmarkSpec, benchmark, expand_grid
from calibrax.core.checks import Alert, Severity, ValidationEntry, alert_from_dict, alert_id, alert_to_dict
from calibrax.core.errors import (
    BenchmarkError,
    CalibraxError,
    ConfigError,
    ExporterError,
    HardwareUnavailableError,
    NotFoundError,
    StoreError,
)
from calibrax.core.exitcodes import ExitCode, combine_exit_codes
from calibrax.core.formatting import MISSING, format_interval, format_ratio, format_seconds, format_value, time_unit
from calibrax.core.models import (
    STANDARD_MEASURES,
    Basis,
    BenchmarkResult,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    Provenance,
    RunInfo,
    RunStatus,
    Summary,
    Verdict,
    VerdictKind,
    canonical_params,
    measure_for,
)
from calibrax.core.protocols import BenchmarkFactory
from calibrax.core.registry import Registry, close_matches, unknown_name_message
from calibrax.core.result import (
    RunRecord,
    case_from_dict,
    case_to_dict,
    measure_to_dict,
    record_from_dict,
    run_info_to_dict,
    verdict_to_dict,
)
from calibrax.core.workload import Workload

__all__ = [
    "MISSING",
    "format_interval",
    "format_ratio",
    "format_seconds",
    "format_value",
    "time_unit",
    "Alert",
    "Basis",
    "Severity",
    "ValidationEntry",
    "alert_from_dict",
    "alert_id",
    "alert_to_dict",
    "BENCHMARKS",
    "BenchmarkError",
    "BenchmarkFactory",
    "BenchmarkResult",
    "BenchmarkSpec",
    "CalibraxError",
    "CaseResult",
    "CaseStatus",
    "ConfigError",
    "Direction",
    "ExitCode",
    "ExporterError",
    "GitInfo",
    "HardwareInfo",
    "HardwareUnavailableError",
    "Measure",
    "MeasureResult",
    "NotFoundError",
    "Provenance",
    "Registry",
    "RunInfo",
    "RunRecord",
    "RunStatus",
    "STANDARD_MEASURES",
    "StoreError",
    "Summary",
    "Verdict",
    "VerdictKind",
    "Workload",
    "as_workload",
    "benchmark",
    "canonical_params",
    "case_from_dict",
    "case_to_dict",
    "close_matches",
    "combine_exit_codes",
    "expand_grid",
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
    "measure_for",
    "measure_to_dict",
    "record_from_dict",
    "run_info_to_dict",
    "unknown_name_message",
    "verdict_to_dict",
]
