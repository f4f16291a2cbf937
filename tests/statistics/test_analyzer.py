from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrax.statistics import median_ci, summarize
from calibrax.statistics.analyzer import _binomial_half_quantile


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


@pytest.mark.parametrize("q", [1e-6, 0.0005, 0.005, 0.025, 0.05, 0.1, 0.3, 0.975, 0.999999])
def test_the_binomial_quantile_equals_scipys(q: float) -> None:
    # q = 1/2 is left out: P(K <= (n-1)/2) is exactly 1/2 for odd n, where scipy answers k or k + 1
    from scipy import stats

    ns = [*range(1, 301), 999, 1000, 1001, 4096, 10**5, *([10**6] if q == 0.025 else [])]  # 0.025: median_ci's
    assert [_binomial_half_quantile(q, n) for n in ns] == [int(stats.binom.ppf(q, n, 0.5)) for n in ns]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=1e-9, max_value=1e3), min_size=2, max_size=60))
def test_the_mad_is_scipys_normal_scaled_one(values: list[float]) -> None:
    from scipy import stats

    assert summarize(values).mad == pytest.approx(stats.median_abs_deviation(values, scale="normal"), rel=1e-12, abs=1e-300)


def test_a_summary_needs_no_scipy() -> None:
    # every run summarises its samples; scipy (0.3 s for scipy.special, 0.8 s for scipy.stats) waits
    # for a gate that needs it
    code = ("import sys; from calibrax.statistics import summarize; summarize([1.0, 2.0, 3.0, 5.0] * 20); "
            "print(any(m.partition('.')[0] == 'scipy' for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
