"""Tests, effects and corrections against scipy and hand-worked examples."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from calibrax.statistics import (
    benjamini_hochberg,
    bootstrap_ci,
    cliffs_delta,
    cliffs_label,
    cohens_d,
    hedges_g,
    hodges_lehmann,
    holm,
    mann_whitney,
    outlier_counts,
    permutation_test,
    ratio_of_medians,
    welch_t,
)

RNG = np.random.default_rng(42)
A, B = RNG.lognormal(0, 0.1, 25), RNG.lognormal(0.1, 0.1, 30)


def test_mann_whitney_and_welch_match_scipy() -> None:
    mw = stats.mannwhitneyu(B, A, alternative="two-sided")
    assert mann_whitney(A, B).statistic == mw.statistic and mann_whitney(A, B).p_value == pytest.approx(mw.pvalue)
    w = stats.ttest_ind(B, A, equal_var=False)
    assert welch_t(A, B).statistic == pytest.approx(w.statistic) and welch_t(A, B).p_value == pytest.approx(w.pvalue)


def test_permutation_test_agrees_with_the_rank_test_on_a_clear_shift() -> None:
    res = permutation_test(A, B, seed=1)
    assert res.statistic == pytest.approx(np.median(B) - np.median(A))
    assert res.p_value < 0.01
    assert permutation_test(A, A + 0.0, seed=1).p_value == pytest.approx(1.0)


def test_ratio_of_medians_ci_covers_the_true_ratio() -> None:
    e = ratio_of_medians(A, B, seed=3)
    assert e.estimate == pytest.approx(np.median(B) / np.median(A))
    assert e.ci_low < e.estimate < e.ci_high
    assert e.ci_low < np.exp(0.1) * 1.05 and e.ci_high > np.exp(0.1) * 0.95


def test_bootstrap_is_seeded_and_degenerate_data_collapses() -> None:
    assert bootstrap_ci(A, seed=5) == bootstrap_ci(A, seed=5)
    assert bootstrap_ci([2.0, 2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert bootstrap_ci([1.0, 2.0]) == (1.5, 1.5)


def test_hand_worked_effect_sizes() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]
    assert hodges_lehmann(a, b) == 2.0  # pairwise differences b - a have median 2
    # P(b > a) = 13/16 with 2 ties counted half: U = 13 + 0.5*2 = 14; delta = 2*14/16 - 1
    assert cliffs_delta(a, b) == pytest.approx(2 * 14 / 16 - 1)
    assert cohens_d(a, b) == pytest.approx(2.0 / np.std(a, ddof=1))
    assert hedges_g(a, b) == pytest.approx(cohens_d(a, b) * (1 - 3 / (4 * 8 - 9)))
    assert [cliffs_label(d) for d in (0.1, -0.2, 0.4, -0.9)] == ["negligible", "small", "medium", "large"]


def test_holm_and_bh_by_hand_and_against_scipy() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm(p).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p).tolist() == pytest.approx(stats.false_discovery_control(p).tolist())
    assert holm([]).size == 0 and benjamini_hochberg([]).size == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.001, 0.02, 0.05, 0.5, 1.0]) | st.floats(0, 1), min_size=1, max_size=40))
def test_bh_equals_scipys_false_discovery_control(p: list[float]) -> None:
    # ties drawn often: they are where a step-up rule written by hand goes wrong
    expected = stats.false_discovery_control(p, method="bh")
    assert benjamini_hochberg(p) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_a_threshold_verdict_needs_no_scipy_stats() -> None:
    # a run gated by its thresholds alone adjusts p-values with BH: scipy.stats waits for a baseline test
    code = ("import sys; from calibrax.statistics import benjamini_hochberg; benjamini_hochberg([0.01, 0.2]); "
            "print('scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_adjusted_p_values_are_valid_and_not_smaller(p: list[float]) -> None:
    for adjusted in (holm(p), benjamini_hochberg(p)):
        assert np.all(adjusted >= np.asarray(p) - 1e-12) and np.all(adjusted <= 1.0)


def test_outliers_are_counted_by_both_rules() -> None:
    # median 10, MAD 0.1, quartiles 9.95 and 10.15: only 30 lies beyond either rule
    assert outlier_counts([9.8, 9.9, 10.0, 10.0, 10.1, 10.2, 30.0]) == (1, 1)
    assert outlier_counts([10.0] * 8 + [10.5, 9.5]) == (2, 0)  # MAD 0: no modified z-score
    assert outlier_counts([1.0, 2.0]) == (0, 0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mann_whitney([], [1.0]), "Two 1-D samples of at least 1"),
        (lambda: welch_t([1.0], [1.0, 2.0]), "at least 2"),
        (lambda: ratio_of_medians([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), "baseline median must be positive"),
        (lambda: holm([0.5, 1.5]), r"p-values must be .* in \[0, 1\]"),
    ],
)
def test_bad_input_is_a_clear_error(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()
