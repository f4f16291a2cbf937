"""analysis: verdicts, comparisons, fits and fronts over measured samples (processing layer).

Imports only ``calibrax.core`` and ``calibrax.statistics``.
"""

from calibrax.analysis._common import AnalysisError
from calibrax.analysis.changepoint import (
    Changepoint,
    ChangepointResult,
    HistoryPoint,
    detect_changepoints,
    detect_changepoints_many,
    history_from_runs,
    screen_histories,
)
from calibrax.analysis.comparison import Comparison, MeasureComparison, RunMeasure, compare_runs, ratio_ci
from calibrax.analysis.complexity import complexity_fits
from calibrax.analysis.pareto import (
    Objective,
    ParetoAnalysis,
    ParetoPoint,
    crowding_distance,
    dominates,
    non_dominated_sort,
    pareto_analysis,
)
from calibrax.analysis.ranking import (
    AggregateEntry,
    AggregateRanking,
    RankEntry,
    Ranking,
    aggregate_ranks,
    rank_cases,
    rank_samples,
    rank_summaries,
)
from calibrax.analysis.regression import (
    GatePolicy,
    MeasureRule,
    Pair,
    RunsByCase,
    comparable_hardware,
    compare_records,
    decide,
    judge,
    run_level,
)
from calibrax.analysis.run_noise import MIN_HISTORY_RUNS, BetweenRunTest, RunLevel, between_run_test, noise_model_label
from calibrax.analysis.scaling import (
    ComplexityCandidate,
    ComplexityFit,
    Parameter,
    ScalingFit,
    classify_complexity,
    fit_chinchilla,
    fit_power_law,
    fit_saturating,
    r_squared,
    relative_rms,
)
from calibrax.analysis.thresholds import threshold_verdicts

__all__: list[str] = [
    "AggregateEntry",
    "AggregateRanking",
    "AnalysisError",
    "Changepoint",
    "ChangepointResult",
    "Comparison",
    "ComplexityCandidate",
    "ComplexityFit",
    "complexity_fits",
    "HistoryPoint",
    "MeasureComparison",
    "Objective",
    "Parameter",
    "ParetoAnalysis",
    "ParetoPoint",
    "RankEntry",
    "Ranking",
    "RunMeasure",
    "ScalingFit",
    "aggregate_ranks",
    "classify_complexity",
    "compare_runs",
    "crowding_distance",
    "detect_changepoints",
    "detect_changepoints_many",
    "dominates",
    "fit_chinchilla",
    "fit_power_law",
    "fit_saturating",
    "history_from_runs",
    "non_dominated_sort",
    "pareto_analysis",
    "r_squared",
    "rank_cases",
    "rank_samples",
    "rank_summaries",
    "ratio_ci",
    "relative_rms",
    "screen_histories",
    "GatePolicy",
    "MeasureRule",
    "Pair",
    "comparable_hardware",
    "compare_records",
    "decide",
    "judge",
    "run_level",
    "RunsByCase",
    "MIN_HISTORY_RUNS",
    "BetweenRunTest",
    "RunLevel",
    "between_run_test",
    "noise_model_label",
    "threshold_verdicts",
]
