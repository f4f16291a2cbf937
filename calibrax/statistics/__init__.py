"""statistics: summaries, tests, effect sizes and corrections (processing layer; imports core)."""

from calibrax.statistics.analyzer import bootstrap_ci, median_ci, outlier_counts, summarize
from calibrax.statistics.significance import (
    Effect,
    TestResult,
    benjamini_hochberg,
    cliffs_delta,
    cliffs_label,
    cohens_d,
    hedges_g,
    hodges_lehmann,
    holm,
    mann_whitney,
    permutation_test,
    ratio_of_medians,
    welch_t,
)

__all__ = [
    "Effect",
    "TestResult",
    "benjamini_hochberg",
    "bootstrap_ci",
    "cliffs_delta",
    "cliffs_label",
    "cohens_d",
    "hedges_g",
    "hodges_lehmann",
    "holm",
    "mann_whitney",
    "median_ci",
    "outlier_counts",
    "permutation_test",
    "ratio_of_medians",
    "summarize",
    "welch_t",
]
