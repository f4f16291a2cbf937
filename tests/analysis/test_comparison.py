"""Runs side by side: speedups with bootstrap CIs, winners, and the errors a user can reach."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from factories import record, time_case
from scipy import stats

from calibrax.analysis import AnalysisError, compare_runs, ratio_ci
from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, Measure, MeasureResult, RunRecord

N = 999  # resamples: enough for the checks here, quick on two cores


def _runs(*centers: float) -> list[RunRecord]:
    return [record(f"r{i}", [time_case("matmul", {"n": 64}, c, seed=i)]) for i, c in enumerate(centers)]


def test_speedups_are_direction_aware_ratios_of_medians() -> None:
    runs = _runs(1.0, 0.8, 1.0)
    cmp = compare_runs(runs, "r0", measures=["time"], n_resamples=N)
    (row,) = cmp.rows
    assert (row.benchmark, dict(row.params), row.measure.name, row.reference) == ("matmul", {"n": 64}, "time", "r0")
    ref, fast, same = row.entries
    assert (ref.speedup, ref.ci_method) == (1.0, "reference")
    medians = [np.median(r.cases[0].measures["time"].samples) for r in runs]
    assert fast.speedup == pytest.approx(medians[0] / medians[1])
    assert fast.ratio == pytest.approx(medians[1] / medians[0])
    assert fast.ci_low > 1.15 and fast.ci_method == "BCa" and fast.n == 20
    assert same.ci_low < 1 < same.ci_high
    assert (row.best, row.winner) == ("r1", "r1") and "clearly best" in row.note
    assert cmp.run_ids == ("r0", "r1", "r2") and cmp.level == 0.95


def test_no_clear_winner_when_an_interval_reaches_one() -> None:
    row = compare_runs(_runs(1.0, 0.999), n_resamples=N, measures=["time"]).rows[0]
    assert row.best in ("r0", "r1") and row.winner is None
    assert row.note.startswith("no clear winner")


def test_the_reference_itself_can_win() -> None:
    row = compare_runs(_runs(0.7, 1.0, 1.02), 0, n_resamples=N, measures=["time"]).rows[0]
    assert row.winner == "r0"
    assert all(e.ci_high < 1 for e in row.entries[1:])


def test_a_close_second_candidate_blocks_the_win() -> None:
    # r1 and r2 both beat the reference clearly, but not each other.
    row = compare_runs(_runs(1.0, 0.8, 0.8005), "r0", n_resamples=N, measures=["time"]).rows[0]
    assert all(e.ci_low > 1 for e in row.entries[1:])
    assert row.winner is None and row.best in ("r1", "r2")


def _case(name: str, measure: Measure, samples: tuple[float, ...], status: CaseStatus = CaseStatus.OK,
          params: dict | None = None) -> CaseResult:  # type: ignore[type-arg]
    return CaseResult(name, params or {}, status, {measure.name: MeasureResult(measure, samples)})


def _spread(center: float, n: int = 15) -> tuple[float, ...]:
    return tuple(center * (1 + 0.01 * v) for v in np.random.default_rng(int(center * 1000)).standard_normal(n))


def test_higher_is_better_and_info_measures() -> None:
    tput, flops = STANDARD_MEASURES["throughput"], STANDARD_MEASURES["flops"]
    a = record("a", [_case("mlp", tput, _spread(100.0)), _case("mm", flops, (2e9,) * 3)])
    b = record("b", [_case("mlp", tput, _spread(150.0)), _case("mm", flops, (4e9,) * 3)])
    rows = {r.measure.name: r for r in compare_runs([a, b], "a", n_resamples=N).rows}
    up = rows["throughput"].entries[1]
    assert up.speedup == pytest.approx(up.ratio) and up.speedup > 1.4 and up.ci_low > 1.4
    assert rows["throughput"].winner == "b"
    info = rows["flops"]
    assert info.entries[1].speedup == 2.0 and (info.entries[1].ci_low, info.entries[1].ci_method) == (2.0, "exact")
    assert info.best is None and info.winner is None and info.note.startswith("info measure")


def test_cases_are_matched_across_runs_and_skipped_when_alone_or_failed() -> None:
    time = STANDARD_MEASURES["time"]
    a = record("a", [_case("x", time, _spread(1.0)), _case("only_a", time, _spread(1.0))])
    b = record("b", [_case("x", time, _spread(2.0)), _case("y", time, _spread(1.0), CaseStatus.ERROR)])
    c = record("c", [_case("y", time, _spread(1.5)), _case("x", time, _spread(1.0), params={"n": 2})])
    rows = compare_runs([a, b, c], "a", n_resamples=N).rows
    assert [(r.benchmark, [e.run_id for e in r.entries]) for r in rows] == [("x", ["a", "b"])]


def test_a_case_the_reference_lacks_uses_the_first_run_that_has_it() -> None:
    time = STANDARD_MEASURES["time"]
    a = record("a", [_case("x", time, _spread(1.0))])
    b = record("b", [_case("x", time, _spread(2.0)), _case("y", time, _spread(1.0))])
    c = record("c", [_case("x", time, _spread(3.0)), _case("y", time, _spread(0.5))])
    rows = compare_runs([a, b, c], "a", n_resamples=N).rows
    assert [r.reference for r in rows] == ["a", "b"]
    assert rows[1].entries[1].speedup == pytest.approx(np.median(_spread(1.0)) / np.median(_spread(0.5)))


def test_single_samples_give_no_interval_and_no_winner() -> None:
    rows = compare_runs(_runs(1.0, 0.5), n_resamples=N, measures=["compile_time"]).rows
    (entry,) = rows[0].entries[1:]
    assert entry.ci_method == "none" and np.isnan(entry.ci_low) and rows[0].winner is None


def test_ratio_ci_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0.2, 0.05, 25), rng.lognormal(0.0, 0.05, 30)
    lo, hi, method = ratio_ci(a, b, level=0.9, n_resamples=N, rng=7)
    ref = stats.bootstrap((a, b), lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis),
                          vectorized=True, method="BCa", confidence_level=0.9, n_resamples=N,
                          rng=np.random.default_rng(7))
    assert method == "BCa"
    assert (lo, hi) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))


def test_ratio_ci_falls_back_and_handles_degenerate_samples() -> None:
    sym = [2.0, 2.1, 1.9, 2.0, 2.05, 1.95]
    assert ratio_ci(sym, [1.0, 1.05, 0.95, 1.0, 1.02, 0.98])[2] == "percentile"  # BCa acceleration is 0/0
    assert ratio_ci([3.0, 3.0], [1.5, 1.5]) == (2.0, 2.0, "exact")
    assert ratio_ci([1.0], [1.0, 2.0])[2] == "none"
    assert ratio_ci([1.0, 2.0], [0.0, 0.0])[2] == "none"
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        ratio_ci([1.0, 2.0], [1.0, 2.0], level=95)


def test_results_repeat_with_a_seed_and_are_frozen() -> None:
    runs = _runs(1.0, 0.9)
    a = compare_runs(runs, n_resamples=N, seed=3)
    assert repr(a) == repr(compare_runs(runs, n_resamples=N, seed=3))  # repr: NaN CIs compare equal
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.rows[0].winner = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reference": "r9"}, "Unknown reference run 'r9'. Known reference runs: r0, r1"),
        ({"reference": 5}, "reference index 5 is out of range for 2 runs"),
        ({"measures": ["tme"]}, "Unknown measure 'tme'. Did you mean 'time'"),
        ({"level": 1.0}, "between 0 and 1"),
        ({"n_resamples": 0}, "n_resamples must be at least 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(AnalysisError, match=match):
        compare_runs(_runs(1.0, 1.1), **kwargs)


def test_too_few_or_repeated_runs_are_refused() -> None:
    with pytest.raises(AnalysisError, match="at least two runs"):
        compare_runs(_runs(1.0))
    run = _runs(1.0)[0]
    with pytest.raises(AnalysisError, match="'r0' is given more than once"):
        compare_runs([run, run])


def test_negative_reference_index_counts_from_the_end() -> None:
    assert compare_runs(_runs(1.0, 1.1, 1.2), -1, n_resamples=N, measures=["time"]).reference == "r2"
