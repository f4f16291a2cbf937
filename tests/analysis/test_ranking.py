"""Rankings with CI-overlap ties and rank bands; aggregate ranks over several measures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrax.analysis import AnalysisError, aggregate_ranks, rank_cases, rank_samples, rank_summaries
from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, Direction, MeasureResult, Summary
from calibrax.statistics import median_ci


def _s(median: float, lo: float, hi: float) -> Summary:
    return Summary(n=10, median=median, mean=median, min=lo, max=hi, std=0.0, iqr=0.0, mad=0.0, ci_low=lo, ci_high=hi)


# Worked on paper (lower is better): A [1,2] and B [1.8,3] overlap; C [2.5,4] overlaps B only;
# D [5,6] is clearly worse than all. A ties B; C is clearly behind A; touching intervals overlap.
TABLE = {"A": _s(1.5, 1.0, 2.0), "B": _s(2.2, 1.8, 3.0), "C": _s(3.0, 2.5, 4.0), "D": _s(5.5, 4.0, 6.0)}


def test_ranks_and_bands_lower_is_better() -> None:
    r = rank_summaries(TABLE, Direction.LOWER, "time")
    got = [(e.label, e.position, e.rank, e.band) for e in r.entries]
    # D touches C at 4.0, so C and D overlap: D is only clearly behind A and B.
    assert got == [("A", 1, 1, (1, 2)), ("B", 2, 1, (1, 3)), ("C", 3, 2, (2, 4)), ("D", 4, 3, (3, 4))]
    assert r["C"].median == 3.0 and r.measure == "time" and r.direction is Direction.LOWER


def test_ranks_and_bands_higher_is_better() -> None:
    r = rank_summaries(TABLE, "higher", "accuracy")
    got = [(e.label, e.position, e.rank, e.band) for e in r.entries]
    assert got == [("D", 1, 1, (1, 2)), ("C", 2, 1, (1, 3)), ("B", 3, 2, (2, 4)), ("A", 4, 3, (3, 4))]


def test_equal_medians_are_ordered_by_label() -> None:
    r = rank_summaries({"b": _s(1.0, 0.9, 1.1), "a": _s(1.0, 0.9, 1.1)}, "lower")
    assert [(e.label, e.position, e.rank) for e in r.entries] == [("a", 1, 1), ("b", 2, 1)]


def test_rank_samples_uses_the_median_ci() -> None:
    fast = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97]
    slow = [1.5, 1.52, 1.48, 1.51, 1.49, 1.5, 1.53, 1.47]
    r = rank_samples({"slow": slow, "fast": fast}, "lower", "time")
    assert [(e.label, e.rank, e.band) for e in r.entries] == [("fast", 1, (1, 1)), ("slow", 2, (2, 2))]
    assert (r["fast"].ci_low, r["fast"].ci_high) == median_ci(fast)


def _case(n: int, samples: tuple[float, ...], status: CaseStatus = CaseStatus.OK, summary: Summary | None = None,
          measure: str = "time") -> CaseResult:
    m = MeasureResult(STANDARD_MEASURES[measure], samples, summary)
    return CaseResult("mm", {"n": n}, status, {measure: m})


def test_rank_cases_reads_direction_and_stored_summaries() -> None:
    cases = [_case(1, (5.0, 5.1, 4.9)), _case(2, (1.0, 1.1, 0.9)), _case(3, (0.1,), CaseStatus.ERROR),
             _case(4, (9.0,), summary=_s(0.5, 0.4, 0.6))]
    r = rank_cases(cases)
    assert [e.label for e in r.entries] == ['mm{"n": 4}', 'mm{"n": 2}', 'mm{"n": 1}']  # the error is left out
    assert r.entries[0].median == 0.5  # the stored summary is used as is
    up = rank_cases([_case(1, (5.0, 5.1, 4.9), measure="throughput"), _case(2, (1.0, 1.1, 0.9), measure="throughput")],
                    "throughput")
    assert up.direction is Direction.HIGHER and up.entries[0].label == 'mm{"n": 1}'


def test_aggregate_ranks_by_mean_rank() -> None:
    time = rank_summaries(TABLE, "lower", "time")  # ranks A1 B1 C2 D3
    acc = rank_summaries(TABLE, "higher", "accuracy")  # ranks D1 C1 B2 A3
    mem = rank_summaries({"A": _s(1, 1, 1), "B": _s(2, 2, 2), "C": _s(3, 3, 3), "E": _s(0, 0, 0)}, "lower", "memory")
    agg = aggregate_ranks([time, acc, mem])  # memory ranks E1 A2 B3 C4; D and E are not in every ranking
    assert agg.measures == ("time", "accuracy", "memory") and agg.dropped == ("D", "E")
    got = [(e.label, e.mean_rank, e.position) for e in agg.entries]
    assert got == [("A", pytest.approx(2.0), 1), ("B", pytest.approx(2.0), 2), ("C", pytest.approx(7 / 3), 3)]
    assert agg.entries[0].ranks == {"time": 1, "accuracy": 3, "memory": 2}
    assert agg.entries[0].mean_position < agg.entries[1].mean_position  # the tie-break


def test_aggregate_errors() -> None:
    t = rank_summaries({"a": _s(1, 1, 1)}, "lower", "time")
    with pytest.raises(AnalysisError, match="at least one ranking"):
        aggregate_ranks([])
    with pytest.raises(AnalysisError, match="'time' is ranked more than once"):
        aggregate_ranks([t, t])
    with pytest.raises(AnalysisError, match="No label appears in every ranking"):
        aggregate_ranks([t, rank_summaries({"b": _s(1, 1, 1)}, "lower", "memory")])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rank_summaries(TABLE, "info", "flops"), "'flops' has direction 'info'"),
        (lambda: rank_summaries(TABLE, "best"), "direction 'best'"),
        (lambda: rank_summaries({}, "lower", "time"), "no entries"),
        (lambda: rank_summaries({"a": _s(float("nan"), 0, 1)}, "lower"), "finite"),
        (lambda: rank_summaries({"a": _s(1.0, 2.0, 0.5)}, "lower"), "'a' has ci_low above ci_high"),
        (lambda: rank_samples({"a": []}, "lower", "time"), "'a' has no samples of 'time'"),
        (lambda: rank_cases([_case(1, (1.0,))], "tme"), "Unknown measure 'tme'. Did you mean 'time'"),
        (lambda: rank_cases([_case(1, (1.0,), CaseStatus.ERROR)]), "No case that ended ok"),
    ],
)
def test_errors_a_user_can_reach(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalysisError, match=match):
        call()


def test_unknown_label_lookup_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="Unknown label 'a'. Known labels: A, B, C, D"):
        rank_summaries(TABLE, "lower")["a"]


intervals = st.lists(
    st.tuples(st.floats(0, 10), st.floats(0, 3), st.floats(0, 3)).map(lambda t: _s(t[0], t[0] - t[1], t[0] + t[2])),
    min_size=1, max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(intervals, st.sampled_from(["lower", "higher"]))
def test_rank_never_exceeds_position_and_position_stays_in_the_band(rows: list[Summary], direction: str) -> None:
    r = rank_summaries({f"c{i}": s for i, s in enumerate(rows)}, direction)
    assert [e.position for e in r.entries] == list(range(1, len(rows) + 1))
    for e in r.entries:
        assert e.rank == e.band[0] <= e.position <= e.band[1] <= len(rows)
