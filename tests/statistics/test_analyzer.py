from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrax.statistics import median_ci, summarize


def test_median_ci_matches_the_binomial_order_statistics() -> None:
    assert median_ci([float(i) for i in range(1, 101)]) == (40.0, 61.0)
    assert median_ci([3.0, 1.0, 2.0]) == (1.0, 3.0)  # too few samples: the full range


def test_median_ci_covers_the_true_median_about_95_percent() -> None:
    rng = np.random.default_rng(0)
    hits = sum(lo <= 1.0 <= hi for lo, hi in (median_ci(rng.lognormal(0, 1, 30)) for _ in range(2000)))
    assert 0.93 < hits / 2000 < 0.99


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=1e-9, max_value=1e3), min_size=1, max_size=60))
def test_summary_is_ordered(values: list[float]) -> None:
    s = summarize(values)
    assert s.min <= s.ci_low <= s.median <= s.ci_high <= s.max
    assert s.n == len(values) and s.iqr >= 0 and s.mad >= 0


def test_empty_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
