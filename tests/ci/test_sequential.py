"""The repeated confidence intervals behind the interleaved gate's verdicts: an exact
group-sequential sign test and a Bonferroni trimmed t, intersected."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from calibrax.ci.sequential import (
    SIGN_SHARE,
    SequentialBound,
    binomial_tail,
    crossing_probability,
    fewest_pairs,
    look_schedule,
    nominal_level,
    sequential_bound,
    sequential_kind,
    sign_bounds,
    trimmed_t_bounds,
)
from calibrax.core import VerdictKind

LOOKS = look_schedule(6, 30)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 101])
def test_binomial_tails_are_scipys(n: int) -> None:
    tail = binomial_tail(n)
    assert len(tail) == n + 2 and tail[0] == 1.0 and tail[-1] == 0.0
    np.testing.assert_allclose(tail[:-1], binom.sf(np.arange(n + 1) - 1, n, 0.5), rtol=1e-12, atol=1e-300)


def test_the_crossing_probability_is_that_of_a_simulated_random_walk() -> None:
    # 400,000 walks of fair signs, the count looked at on the schedule: the exact figure is
    # within three standard errors of the simulated share.
    level = 0.02
    rng = np.random.default_rng(0)
    counts = np.cumsum(rng.integers(0, 2, size=(400_000, 30)), axis=1)
    crossed = np.zeros(counts.shape[0], dtype=bool)
    for n in LOOKS:
        critical = next(c for c, p in enumerate(binomial_tail(n)) if p <= level)
        crossed |= counts[:, n - 1] >= critical
    exact = crossing_probability(LOOKS, level)
    assert abs(crossed.mean() - exact) < 3 * math.sqrt(exact * (1 - exact) / crossed.size)
    assert exact > level  # thirteen looks cost more than one


@pytest.mark.parametrize("alpha", [0.05, 0.009, 0.001, 1e-4])
def test_the_nominal_level_is_the_largest_that_keeps_alpha(alpha: float) -> None:
    level = nominal_level(LOOKS, alpha)
    assert 0 < level < alpha and crossing_probability(LOOKS, level) <= alpha
    larger = min(p for n in LOOKS for p in binomial_tail(n) if p > level)
    assert crossing_probability(LOOKS, larger) > alpha


def test_the_repeated_interval_covers_a_heavy_tailed_median_at_every_look_at_once() -> None:
    # Cauchy pairs (no mean at all) around a median of 0.02, looked at on the whole schedule:
    # the share of sequences whose lower bound ever lies above the median stays within alpha
    # (0.05) and its noise, and so does the share whose upper bound ever lies below it.
    above = below = 0
    for seed in range(400):
        x = 0.02 + np.random.default_rng(seed).standard_cauchy(30) * 0.01
        bounds = [sequential_bound(x[:n].tolist(), 0.05, LOOKS) for n in LOOKS]
        above += any(b is not None and b.low > math.exp(0.02) for b in bounds)
        below += any(b is not None and b.high < math.exp(0.02) for b in bounds)
    assert max(above, below) <= 0.05 * 400 + 3 * math.sqrt(0.05 * 0.95 * 400)
    assert above + below > 0  # the bounds are not wider than they need be


def test_looking_at_every_block_would_miss_more_often_than_the_nominal_level_says() -> None:
    # The reason for the schedule's level: the sign test at the fixed-sample level alpha,
    # looked at thirteen times, misses a null median more often than alpha.
    rng = np.random.default_rng(3)
    signs = np.cumsum(rng.integers(0, 2, size=(100_000, 30)), axis=1)
    fixed = next(c for c, p in enumerate(binomial_tail(30)) if p <= 0.01)
    naive = np.zeros(signs.shape[0], dtype=bool)
    for n in LOOKS:
        naive |= signs[:, n - 1] >= next(c for c, p in enumerate(binomial_tail(n)) if p <= 0.01)
    assert naive.mean() > 0.015 and binomial_tail(30)[fixed] <= 0.01
    assert crossing_probability(LOOKS, nominal_level(LOOKS, 0.01)) <= 0.01


def test_a_few_pairs_far_off_do_not_hide_a_steady_effect() -> None:
    # 5% slower in every pair of 30 but three, where one trial ran slow as a whole (either side):
    # a plain t bound widens past the margin; the sign test and the trimmed t each keep it.
    rng = np.random.default_rng(1)
    x = (0.05 + rng.normal(0, 0.005, 30)).tolist()
    x[4], x[9], x[15] = -0.35, 0.4, -0.3
    from scipy.stats import t

    level = 0.005 / len(LOOKS)
    t_low = float(np.mean(x)) - float(t.isf(level, 29)) * float(np.std(x, ddof=1)) / math.sqrt(30)
    assert math.exp(t_low) < 1.01  # the plain t could not tell
    assert math.exp(trimmed_t_bounds(x, level)[0]) > 1.03
    assert math.exp(sign_bounds(x, nominal_level(LOOKS, 0.005))[0]) > 1.03
    b = sequential_bound(x, 0.01, LOOKS)
    assert b is not None and b.low > 1.03
    made = sequential_kind(b, 0.01)
    assert made is not None and made[0] is VerdictKind.REGRESSED


def _null_sequences(count: int, noise: str, seed: int) -> np.ndarray:
    """``count`` sequences of 30 pairs centred on 0: normal, or with a fifth of them ten times wider."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 30))
    if noise == "contaminated":
        x *= np.where(rng.random(x.shape) < 0.2, 10.0, 1.0)
    return x


@pytest.mark.parametrize("noise", ["normal", "contaminated"])
def test_the_trimmed_t_split_over_the_looks_keeps_its_share(noise: str) -> None:
    # 4,000 null sequences looked at on the whole schedule: the share whose lower bound ever
    # clears 0 stays within the trimmed t's share of alpha (0.005) and its noise.
    x = _null_sequences(4000, noise, seed=5)
    level = 0.005 / len(LOOKS)
    crossed = sum(any(trimmed_t_bounds(row[:n].tolist(), level)[0] > 0 for n in LOOKS) for row in x)
    assert crossed <= 0.005 * 4000 + 3 * math.sqrt(0.005 * 4000)


@pytest.mark.parametrize("noise", ["normal", "contaminated"])
def test_each_side_misses_at_most_its_own_rate_over_the_looks(noise: str) -> None:
    # 3,000 sequences of pairs centred on 0 (the true log-ratio), looked at over the whole
    # schedule with the lower bound at alpha 0.01 and the upper at beta 0.1: the share whose
    # lower bound ever rises above 0 stays within alpha, the share whose upper bound ever falls
    # below 0 within beta (each with 3 standard errors of slack), and the upper side, held to
    # the looser rate, does miss more often than the lower.
    x = _null_sequences(3000, noise, seed=11)
    low_missed = high_missed = 0
    for row in x:
        bounds = [sequential_bound(row[:n].tolist(), 0.01, LOOKS, beta=0.1) for n in LOOKS]
        low_missed += any(b is not None and b.low > 1 for b in bounds)
        high_missed += any(b is not None and b.high < 1 for b in bounds)
    assert low_missed <= 0.01 * 3000 + 3 * math.sqrt(0.01 * 3000)
    assert high_missed <= 0.1 * 3000 + 3 * math.sqrt(0.1 * 0.9 * 3000)
    assert high_missed > 2 * low_missed


def test_beta_loosens_only_the_upper_bound() -> None:
    x = (0.004 + np.random.default_rng(4).normal(0, 0.01, 12)).tolist()
    same, loose = sequential_bound(x, 0.01, LOOKS), sequential_bound(x, 0.01, LOOKS, beta=0.1)
    assert same is not None and loose is not None
    assert loose.low == same.low and loose.level == same.level and loose.high < same.high
    assert sequential_bound(x, 0.01, LOOKS, beta=0.01) == same


def test_a_gross_steady_change_is_decided_at_the_first_look_by_the_trimmed_t() -> None:
    # Six pairs cannot move the sign test below 2^-6; six steady pairs 30% apart still decide.
    x = (0.3 + np.random.default_rng(2).normal(0, 0.01, 6)).tolist()
    assert sign_bounds(x, nominal_level(LOOKS, SIGN_SHARE * 0.01)) == (-math.inf, math.inf)
    b = sequential_bound(x, 0.01, LOOKS)
    assert b is not None and b.low > 1.25


def test_a_schedule_too_short_for_the_sign_test_says_so() -> None:
    assert fewest_pairs(LOOKS, 0.009) == 10
    assert fewest_pairs(look_schedule(5, 6), 0.009) is None
    assert fewest_pairs(look_schedule(6, 18), 1e-6) is None  # 2^-18 is above 1e-6 already
    assert fewest_pairs(LOOKS, 1e-6) == 22


def test_too_few_pairs_give_no_bound() -> None:
    assert sequential_bound([0.1], 0.01, LOOKS) is None


@pytest.mark.parametrize("trials, max_trials", [(0, 5), (6, 5)])
def test_a_bad_schedule_is_refused(trials: int, max_trials: int) -> None:
    with pytest.raises(ValueError, match="need 1 <= trials <= max_trials"):
        look_schedule(trials, max_trials)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_bad_alpha_is_refused(alpha: float) -> None:
    with pytest.raises(ValueError, match="need 0 < alpha < 1"):
        nominal_level(LOOKS, alpha)


@pytest.mark.parametrize("low, high, kind", [(1.02, 1.04, VerdictKind.REGRESSED), (0.95, 0.98, VerdictKind.IMPROVED),
                                             (0.985, 1.005, VerdictKind.PASS), (0.995, 1.02, None)])
def test_kinds(low: float, high: float, kind: VerdictKind | None) -> None:
    made = sequential_kind(SequentialBound(math.sqrt(low * high), low, high, 8, 0.003), 0.01)
    assert (made[0] if made else None) is kind
