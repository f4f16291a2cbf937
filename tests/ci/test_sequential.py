"""The confidence sequences behind the interleaved gate's sequential verdicts: the mean's
(normal mixture, asymptotic) and the median's (sign test), intersected."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calibrax.ci.sequential import (
    SequentialBound,
    cs_half_width,
    median_sequence,
    mixture_rho,
    sequential_bound,
    sequential_kind,
)
from calibrax.core import VerdictKind


def test_the_boundary_narrows_as_pairs_come_in_but_stays_wider_than_a_fixed_sample_interval() -> None:
    rho = mixture_rho(0.01, 10)
    widths = [cs_half_width(1.0, t, 0.01, rho) for t in (5, 10, 20, 50, 200)]
    assert widths == sorted(widths, reverse=True)
    assert all(w > 2.576 / math.sqrt(t) for w, t in zip(widths, (5, 10, 20, 50, 200), strict=True))


def test_the_sequence_covers_the_mean_at_every_look_at_once() -> None:
    # 300 sequences of 50 normal pairs, looked at after every pair from the 5th: the share that
    # ever miss the true mean stays below alpha (0.05); without the small-sample factor it is 7.5%.
    misses = 0
    for seed in range(300):
        x = np.random.default_rng(seed).normal(0.0, 1.0, 50)
        for t in range(5, 51):
            b = sequential_bound(x[:t].tolist(), 0.05, 10)
            assert b is not None
            if not b.low <= 1.0 <= b.high:  # exp(0): the true ratio
                misses += 1
                break
    assert misses <= 0.05 * 300


def test_the_median_sequence_covers_a_heavy_tailed_median_at_every_look_at_once() -> None:
    # Cauchy pairs (no mean at all) around a median of 0.02, looked at after every pair: the
    # sign-test sequence is exact, so the share that ever miss stays below alpha (0.05).
    misses = 0
    for seed in range(300):
        x = 0.02 + np.random.default_rng(seed).standard_cauchy(60) * 0.01
        for t in range(2, 61):
            low, high = median_sequence(x[:t].tolist(), 0.05, 10)
            if not low <= 0.02 <= high:
                misses += 1
                break
    assert misses <= 0.05 * 300


def test_a_few_pairs_far_off_do_not_hide_a_steady_effect() -> None:
    # 5% slower in every pair of 30 but three, where one trial ran slow as a whole (either side):
    # the mean's sequence alone widens past the margin; the median's keeps the verdict.
    rng = np.random.default_rng(1)
    x = (0.05 + rng.normal(0, 0.005, 30)).tolist()
    x[4], x[9], x[15] = -0.35, 0.4, -0.3
    mean_only = float(np.mean(x)) - cs_half_width(float(np.std(x, ddof=1)), 30, 0.01, mixture_rho(0.01, 30))
    assert math.exp(mean_only) < 1.01  # the mean's sequence alone could not tell
    b = sequential_bound(x, 0.01, 30)
    assert b is not None and b.low > 1.01
    made = sequential_kind(b, 0.01)
    assert made is not None and made[0] is VerdictKind.REGRESSED


def test_too_few_pairs_give_no_bound() -> None:
    assert sequential_bound([0.1], 0.01, 5) is None


@pytest.mark.parametrize("alpha, t_star", [(0.0, 5), (1.0, 5), (0.01, 0)])
def test_bad_tuning_is_refused(alpha: float, t_star: int) -> None:
    with pytest.raises(ValueError, match="need 0 < alpha < 1"):
        mixture_rho(alpha, t_star)


@pytest.mark.parametrize("low, high, kind", [(1.02, 1.04, VerdictKind.REGRESSED), (0.95, 0.98, VerdictKind.IMPROVED),
                                             (0.985, 1.005, VerdictKind.PASS), (0.995, 1.02, None)])
def test_kinds(low: float, high: float, kind: VerdictKind | None) -> None:
    made = sequential_kind(SequentialBound(math.sqrt(low * high), low, high, 8, 0.01), 0.01)
    assert (made[0] if made else None) is kind
