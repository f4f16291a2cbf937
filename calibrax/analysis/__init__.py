"""analysis: verdicts, comparisons, fits and fronts over measured samples (processing layer).

Imports only ``calibrax.core`` and ``calibrax.statistics``.
"""

from calibrax.analysis.regression import GatePolicy, MeasureRule, Pair, compare_records, decide, judge

__all__: list[str] = [
    "GatePolicy",
    "MeasureRule",
    "Pair",
    "compare_records",
    "decide",
    "judge",
]
