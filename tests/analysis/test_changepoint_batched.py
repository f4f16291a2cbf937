"""The batched permutation search gives the p-values and changepoints of scipy's permutation test.

The search scores every ordering of a segment at once; these tests run the same search with
``scipy.stats.permutation_test`` (the loop it replaced) and require equal results for a seed.
The search of many histories together must equal the search of each alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from calibrax.analysis import changepoint
from calibrax.analysis.changepoint import (
    _PROFILES,
    _adjust,
    _orderings,
    _test_split,
    _welch_profile,
    detect_changepoints,
    detect_changepoints_many,
)


def scipy_split(seg: np.ndarray, profile: changepoint.Profile, min_size: int, n_permutations: int,
                rng: np.random.Generator) -> tuple[int, float, float]:
    """The best split and its p-value from ``scipy.stats.permutation_test``."""
    prof = profile(seg, min_size)
    k = int(np.argmax(prof))
    res = stats.permutation_test(
        (seg,), lambda s, axis: profile(np.moveaxis(s, axis, -1), min_size).max(axis=-1),
        permutation_type="pairings", vectorized=True, n_resamples=n_permutations, batch=256,
        alternative="greater", rng=rng,
    )
    return min_size + k, float(prof[k]), float(res.pvalue)


def generated(seed: int, n: int, steps: int, size: float) -> list[float]:
    """A lognormal history of ``n`` runs with ``steps`` level shifts of ``size`` at random runs."""
    rng = np.random.default_rng(seed)
    values = 0.01 * rng.lognormal(0.0, 0.02, n)
    for at in rng.integers(1, n, steps):
        values[at:] *= 1 + size
    return values.tolist()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(4, 40), n_permutations=st.integers(1, 700),
       method=st.sampled_from(["binseg", "edivisive"]), repeats=st.integers(1, 3))
def test_each_split_test_equals_scipy_for_a_seed(seed: int, m: int, n_permutations: int, method: str,
                                                 repeats: int) -> None:
    seg = np.log(generated(seed, m, 1, 0.1))
    min_size = 2 if m < 10 else 5
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(repeats):  # the generator is left in the same state for the next test
        assert _test_split(seg, _PROFILES[method], min_size, n_permutations, ours) == scipy_split(
            seg, _PROFILES[method], min_size, n_permutations, theirs)


def test_an_exact_test_scores_every_ordering_without_drawing() -> None:
    seg = np.log(generated(3, 5, 1, 0.3))
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    got = _test_split(seg, _PROFILES["binseg"], 2, 120, rng)
    assert got == scipy_split(seg, _PROFILES["binseg"], 2, 120, np.random.default_rng(0))
    assert rng.bit_generator.state == state
    assert got[2] * 120 == pytest.approx(round(got[2] * 120))  # a count out of all 5! orderings


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 80), steps=st.integers(0, 3),
       size=st.sampled_from([0.03, 0.1, 0.5]), method=st.sampled_from(["binseg", "edivisive"]),
       correction=st.sampled_from(["holm", "bh"]))
def test_whole_searches_equal_the_scipy_loop(seed: int, n: int, steps: int,
                                             size: float, method: str, correction: str) -> None:
    history = generated(seed, n, steps, size)
    kwargs = {"method": method, "correction": correction, "n_permutations": 299, "alpha": 0.05, "seed": seed}
    ours = detect_changepoints(history, **kwargs)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changepoint, "_test_split", scipy_split)
        theirs = detect_changepoints(history, **kwargs)  # type: ignore[arg-type]
    assert ours == theirs


def test_a_planted_step_gives_the_same_changepoint_and_p_value_as_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    history = generated(11, 60, 0, 0.0)
    history[30:] = [v * 1.08 for v in history[30:]]
    ours = detect_changepoints(history, n_permutations=999)
    monkeypatch.setattr(changepoint, "_test_split", scipy_split)
    theirs = detect_changepoints(history, n_permutations=999)
    assert [c.index for c in ours.changepoints] == [30]
    assert ours == theirs and ours.changepoints[0].raw_p_value == 1 / 1000


def textbook_welch_profile(z: np.ndarray, min_size: int) -> np.ndarray:
    """|Welch t| at every split written out plainly, one temporary per step (the reference)."""
    m = z.shape[-1]
    z = z - z.mean(axis=-1, keepdims=True)
    c1, c2 = np.cumsum(z, axis=-1), np.cumsum(z * z, axis=-1)
    k = np.arange(min_size, m - min_size + 1)
    s1_l, s2_l = c1[..., k - 1], c2[..., k - 1]
    s1_r, s2_r = c1[..., -1:] - s1_l, c2[..., -1:] - s2_l
    n_l, n_r = k.astype(float), (m - k).astype(float)
    mean_l, mean_r = s1_l / n_l, s1_r / n_r
    var_l = np.maximum(s2_l - n_l * mean_l**2, 0.0) / (n_l - 1)
    var_r = np.maximum(s2_r - n_r * mean_r**2, 0.0) / (n_r - 1)
    diff = np.abs(mean_r - mean_l)
    se = np.sqrt(var_l / n_l + var_r / n_r)
    tiny = 1e-12 * (np.abs(z).max(axis=-1, keepdims=True) + 1e-300)
    return np.where(diff <= tiny, 0.0, diff / np.maximum(se, tiny))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(4, 60), rows=st.integers(1, 5),
       ties=st.booleans())
def test_the_welch_profile_equals_the_textbook_steps_bit_for_bit(seed: int, m: int, rows: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(rows, m))
    if ties:  # repeated values and constant stretches, as integer measures have
        z = np.round(z * 2) / 2
        z[0, : m // 2] = 1.0
    min_size = int(rng.integers(2, m // 2 + 1))
    kept = z.copy()
    assert np.array_equal(_welch_profile(z, min_size), textbook_welch_profile(z, min_size))
    assert np.array_equal(_welch_profile(z[0], min_size), textbook_welch_profile(z[0], min_size))
    assert np.array_equal(z, kept)  # the input is left as it was


@settings(max_examples=60, deadline=None)
@given(p=st.lists(st.sampled_from([1e-4, 0.001, 0.002, 0.01, 0.03, 0.2, 0.5, 1.0]) | st.floats(0, 1),
                  min_size=0, max_size=12))
def test_bh_adjustment_equals_scipy(p: list[float]) -> None:
    values = np.array(p, dtype=float)
    expected = stats.false_discovery_control(values, method="bh") if values.size else values
    assert np.array_equal(_adjust(values, "bh"), np.asarray(expected))


def test_orderings_drawn_again_from_the_same_state_are_reused_and_leave_the_generator_where_drawing_would() -> None:
    first, again = np.random.default_rng(2024), np.random.default_rng(2024)
    drawn, exact = _orderings(31, 499, first)
    reused, _ = _orderings(31, 499, again)
    assert reused is drawn and not exact and not reused.flags.writeable
    assert again.bit_generator.state == first.bit_generator.state
    assert np.array_equal(_orderings(17, 300, again)[0], _orderings(17, 300, first)[0])
    fresh = np.random.default_rng(2024)  # a generator's own draws, without the remembered ones
    fresh_draw = np.concatenate([fresh.permuted(np.tile(np.arange(31), (256, 1, 1)), axis=-1)[:n, 0] for n in (256, 243)])
    assert np.array_equal(fresh_draw, drawn)


def test_many_histories_of_one_length_and_seed_equal_the_scipy_loop_each(monkeypatch: pytest.MonkeyPatch) -> None:
    histories = [generated(seed, 40, 1, 0.2) for seed in range(6)]
    ours = [detect_changepoints(h, n_permutations=499, alpha=0.05) for h in histories]
    monkeypatch.setattr(changepoint, "_test_split", scipy_split)
    assert ours == [detect_changepoints(h, n_permutations=499, alpha=0.05) for h in histories]
    assert sum(len(r.changepoints) for r in ours) >= 3


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lengths=st.lists(st.integers(4, 70), min_size=1, max_size=12),
       method=st.sampled_from(["binseg", "edivisive"]), correction=st.sampled_from(["holm", "bh"]),
       min_size=st.sampled_from([2, 5]), n_permutations=st.sampled_from([60, 299]))
def test_many_histories_searched_together_equal_each_searched_alone(
        seed: int, lengths: list[int], method: str, correction: str, min_size: int, n_permutations: int) -> None:
    # Equal lengths share every split's orderings, others share some; min_size 2 makes exact tests of short segments.
    histories = [generated(seed + i, n, i % 3, 0.1) for i, n in enumerate(lengths + lengths[:3])]
    kwargs = {"method": method, "correction": correction, "n_permutations": n_permutations, "alpha": 0.1,
              "min_size": min_size, "seed": seed % 7}
    alone = [detect_changepoints(h, **kwargs) for h in histories]  # type: ignore[arg-type]
    assert detect_changepoints_many(histories, **kwargs) == alone  # type: ignore[arg-type]


def test_the_report_sized_batch_equals_the_loop_and_blocks_several_histories(monkeypatch: pytest.MonkeyPatch) -> None:
    histories = [generated(seed, 30, seed % 2, 0.2) for seed in range(40)]
    blocks: list[int] = []
    welch = changepoint._welch_profile
    monkeypatch.setitem(changepoint._PROFILES, "binseg",
                        lambda z, m: blocks.append(z.shape[0] if z.ndim == 3 else 0) or welch(z, m))
    together = detect_changepoints_many(histories, alpha=0.01, correction="bh", n_permutations=499)
    monkeypatch.setitem(changepoint._PROFILES, "binseg", welch)
    assert together == [detect_changepoints(h, alpha=0.01, correction="bh", n_permutations=499) for h in histories]
    assert max(blocks) > 1 and sum(len(r.changepoints) for r in together) >= 15


def test_a_history_the_batch_cannot_search_is_named() -> None:
    with pytest.raises(changepoint.AnalysisError, match="History 1: History values"):
        detect_changepoints_many([[1.0] * 12, [1.0, -1.0] * 6])
    assert detect_changepoints_many([]) == []
