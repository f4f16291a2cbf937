"""Pareto fronts: hand-worked examples, a brute-force check and hypothesis properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrax.analysis import (
    AnalysisError,
    Objective,
    crowding_distance,
    dominates,
    non_dominated_sort,
    pareto_analysis,
)
from calibrax.core import STANDARD_MEASURES, CalibraxError, Direction

LOW, HIGH = Direction.LOWER, Direction.HIGHER


@pytest.mark.parametrize(
    "a, b, dirs, expected",
    [
        ([1, 1], [2, 2], [LOW, LOW], True),
        ([1, 2], [2, 2], [LOW, LOW], True),  # equal on one, better on the other
        ([1, 3], [2, 2], [LOW, LOW], False),  # a trade-off: neither dominates
        ([2, 2], [2, 2], [LOW, LOW], False),  # equal points do not dominate each other
        ([2, 2], [1, 1], [HIGH, HIGH], True),
        ([1, 9], [2, 5], [LOW, HIGH], True),
        ([1, 5], [2, 9], [LOW, HIGH], False),
        ([3], [4], ["lower"], True),  # one objective, directions as strings
    ],
)
def test_dominates(a: list[float], b: list[float], dirs: list[Direction | str], expected: bool) -> None:
    assert dominates(a, b, dirs) is expected


def test_fronts_of_a_hand_worked_example() -> None:
    # time (lower) and accuracy (higher) of six configurations, worked out on paper:
    # A, B, C trade off; D is dominated by B only; E by D (and B); F duplicates A.
    pts = [[1.0, 0.80], [2.0, 0.90], [4.0, 0.95], [3.0, 0.85], [3.5, 0.84], [1.0, 0.80]]
    res = pareto_analysis(pts, [Objective("time", LOW), Objective("accuracy", HIGH)], list("ABCDEF"))
    assert [[res.points[i].label for i in f] for f in res.fronts] == [["A", "B", "C", "F"], ["D"], ["E"]]
    assert [p.label for p in res.first_front] == ["A", "B", "C", "F"]
    assert [p.dominated_by for p in res.points] == [0, 0, 0, 1, 2, 0]
    assert res.front(2)[0].values == (3.5, 0.84)
    assert res.objectives == (Objective("time", LOW), Objective("accuracy", HIGH))


def test_crowding_distance_hand_worked() -> None:
    # x levels 1,2,3,5 (span 4); y levels 1,2,4,8 (span 7)
    d = crowding_distance([[1, 8], [2, 4], [3, 2], [5, 1]])
    assert d[0] == np.inf and d[3] == np.inf
    assert d[1] == pytest.approx((3 - 1) / 4 + (8 - 2) / 7)
    assert d[2] == pytest.approx((5 - 2) / 4 + (4 - 1) / 7)


def test_crowding_distance_gives_duplicates_equal_distances_in_any_order() -> None:
    pts = np.array([[1, 8], [2, 4], [2, 4], [3, 2], [5, 1]], dtype=float)
    d = crowding_distance(pts)
    assert d[1] == d[2] == pytest.approx((3 - 1) / 4 + (8 - 2) / 7)
    perm = np.random.default_rng(0).permutation(len(pts))
    assert np.array_equal(crowding_distance(pts[perm]), d[perm])


def test_crowding_distance_small_fronts_and_flat_objectives() -> None:
    assert crowding_distance([[1.0, 2.0]]).tolist() == [np.inf]
    assert crowding_distance([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0]]).tolist() == [np.inf] * 3
    # the second objective has no spread and adds nothing
    assert crowding_distance([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]]).tolist() == [np.inf, 1.0, np.inf]
    assert crowding_distance([[5.0, 5.0], [5.0, 5.0]]).tolist() == [np.inf, np.inf]
    with pytest.raises(AnalysisError, match="shape"):
        crowding_distance([1.0, 2.0])


def test_pareto_crowding_is_within_each_front() -> None:
    res = pareto_analysis([[1, 3], [2, 2], [3, 1], [2, 3]], [LOW, LOW])
    assert [p.front for p in res.points] == [0, 0, 0, 1]
    assert res.points[1].crowding == pytest.approx(2.0)
    assert res.points[3].crowding == np.inf  # alone in its front


def test_measures_serve_as_objectives_and_labels_default_to_positions() -> None:
    res = pareto_analysis([[1.0, 10.0], [2.0, 20.0]], [STANDARD_MEASURES["time"], STANDARD_MEASURES["throughput"]])
    assert [p.label for p in res.points] == ["0", "1"]
    assert res.objectives[1] == Objective("throughput", HIGH)
    assert [p.front for p in res.points] == [0, 0]


def test_higher_is_better_equals_negated_lower_is_better() -> None:
    pts = np.random.default_rng(1).integers(0, 5, size=(40, 3)).astype(float)
    mixed = non_dominated_sort(pts, [LOW, HIGH, LOW])
    flipped = pts * np.array([1, -1, 1])
    assert mixed == non_dominated_sort(flipped, [LOW, LOW, LOW])


def test_first_front_matches_brute_force() -> None:
    rng = np.random.default_rng(2)
    pts = rng.integers(0, 6, size=(60, 3)).astype(float)
    dirs = [LOW, HIGH, HIGH]
    brute = [i for i in range(len(pts)) if not any(dominates(pts[j], pts[i], dirs) for j in range(len(pts)))]
    assert non_dominated_sort(pts, dirs)[0] == brute


@pytest.mark.parametrize(
    "objectives, match",
    [
        ([Objective("flops", Direction.INFO), Objective("time", LOW)], "'flops' has direction 'info'"),
        ([STANDARD_MEASURES["flops"], STANDARD_MEASURES["time"]], "'flops' has direction 'info'"),
        (["info", "lower"], "direction 'info'"),
        (["smaller", "lower"], "'smaller'; use one of 'lower', 'higher'"),
        ([LOW], "one value per objective: 1 objectives, but the points have 2"),
        ([], "at least one objective"),
    ],
)
def test_bad_objectives_are_refused(objectives: list, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(AnalysisError, match=match):
        pareto_analysis([[1.0, 2.0], [2.0, 1.0]], objectives)


def test_bad_points_and_labels_are_refused() -> None:
    with pytest.raises(AnalysisError, match="2 points but 1 labels"):
        pareto_analysis([[1.0, 2.0], [2.0, 1.0]], [LOW, LOW], labels=["a"])
    with pytest.raises(AnalysisError, match="finite, got nan"):
        pareto_analysis([[1.0, float("nan")]], [LOW, LOW])
    with pytest.raises(AnalysisError, match="at least one point"):
        pareto_analysis([], [LOW, LOW])
    with pytest.raises(AnalysisError, match="2-dimensional"):
        pareto_analysis([1.0, 2.0], [LOW, LOW])
    with pytest.raises(AnalysisError, match="There are 1 fronts"):
        pareto_analysis([[1.0, 1.0]], [LOW, LOW]).front(1)
    with pytest.raises(CalibraxError):  # every analysis error is a calibrax error
        dominates([1.0], [2.0], ["info"])


def test_empty_input_to_the_sort_gives_no_fronts() -> None:
    assert non_dominated_sort([], [LOW, LOW]) == []


points_strategy = st.integers(1, 3).flatmap(
    lambda m: st.tuples(
        st.lists(st.lists(st.integers(0, 4), min_size=m, max_size=m), min_size=1, max_size=25),
        st.lists(st.sampled_from([LOW, HIGH]), min_size=m, max_size=m),
    )
)


@settings(max_examples=150, deadline=None)
@given(points_strategy)
def test_front_properties(data: tuple[list[list[int]], list[Direction]]) -> None:
    pts, dirs = data
    fronts = non_dominated_sort(pts, dirs)
    assert sorted(itertools.chain.from_iterable(fronts)) == list(range(len(pts)))  # a partition
    front_of = {i: k for k, f in enumerate(fronts) for i in f}
    for i, j in itertools.product(range(len(pts)), repeat=2):
        if front_of[j] >= front_of[i]:  # nothing in a later or the same front dominates i
            assert not dominates(pts[j], pts[i], dirs)
    for k in range(1, len(fronts)):
        for i in fronts[k]:
            assert any(dominates(pts[j], pts[i], dirs) for j in fronts[k - 1])


@settings(max_examples=100, deadline=None)
@given(points_strategy, st.randoms(use_true_random=False))
def test_fronts_and_crowding_do_not_depend_on_input_order(data: tuple[list[list[int]], list[Direction]],
                                                          rnd) -> None:  # type: ignore[no-untyped-def]
    pts, dirs = data
    perm = list(range(len(pts)))
    rnd.shuffle(perm)
    a = pareto_analysis(pts, dirs)
    b = pareto_analysis([pts[i] for i in perm], dirs)
    for new, old in enumerate(perm):
        assert b.points[new].front == a.points[old].front
        assert b.points[new].crowding == a.points[old].crowding
        assert b.points[new].dominated_by == a.points[old].dominated_by
