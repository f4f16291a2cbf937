"""ci: the gate that turns a run and a baseline into verdicts (output layer)."""

from calibrax.ci.bisection import BisectResult, BisectStep, bisect, worst
from calibrax.ci.check import (
    DEFAULT_HISTORY_RUNS,
    CheckedRun,
    baseline_history,
    check_stored,
    check_with_margins,
    history_runs_of,
    noise_models,
    policy_with_margins,
)
from calibrax.ci.guard import CheckResult, check_run, policy_from_config, summary_lines
from calibrax.ci.history import MIN_CHANGEPOINT_RUNS, BenchmarkHistory, CaseHistory, HistoryRun, benchmark_history
from calibrax.ci.interleaved import (
    TRIAL_PRECISION,
    TRIAL_ROUNDS,
    Arm,
    CaseRef,
    InterleavedResult,
    TrialStatistic,
    abba_order,
    rounds_for_precision,
    run_interleaved,
    trial_rounds,
    trial_value,
)

__all__ = [
    "TRIAL_PRECISION",
    "TRIAL_ROUNDS",
    "Arm",
    "BenchmarkHistory",
    "BisectResult",
    "BisectStep",
    "CaseHistory",
    "CaseRef",
    "DEFAULT_HISTORY_RUNS",
    "CheckResult",
    "CheckedRun",
    "HistoryRun",
    "InterleavedResult",
    "TrialStatistic",
    "MIN_CHANGEPOINT_RUNS",
    "abba_order",
    "baseline_history",
    "benchmark_history",
    "bisect",
    "check_run",
    "check_stored",
    "check_with_margins",
    "history_runs_of",
    "noise_models",
    "policy_from_config",
    "policy_with_margins",
    "rounds_for_precision",
    "run_interleaved",
    "summary_lines",
    "trial_rounds",
    "trial_value",
    "worst",
]
