"""One row per metric: how to draw seeded inputs and the reference that must agree.

References come from scikit-learn, SciPy, or an independent NumPy implementation written
here from the published definition. ``make(rng)`` returns ``(inputs, kwargs)`` as NumPy
values; ``reference(*inputs, **kwargs)`` returns the expected value. Each domain module
adds its rows to :data:`CASES` when imported; this package imports them all.
"""

import importlib

from metric_cases._base import CASES, SEEDS, Case, Inputs, case, jitted

DOMAINS = (
    "regression",
    "classification",
    "calibration",
    "segmentation",
    "distance",
    "divergence",
    "information",
    "ranking",
    "statistical",
    "clustering",
    "image",
    "audio",
    "text",
    "geometric",
    "graph",
    "manifold",
    "fairness",
    "forecasting",
    "uncertainty",
    "generative",
    "metric_learning",
)
"""The domain modules, imported in this order; each adds its rows to CASES."""
__all__ = ["CASES", "DOMAINS", "SEEDS", "Case", "Inputs", "case", "jitted"]

for _domain in DOMAINS:
    importlib.import_module(f"metric_cases.{_domain}")
