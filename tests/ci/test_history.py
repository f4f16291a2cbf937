"""benchmark_history: a benchmark's stored results grouped per case, with changepoints."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from factories import run_info, time_case

from calibrax.ci.history import MIN_CHANGEPOINT_RUNS, BenchmarkHistory, CaseHistory, HistoryRun, benchmark_history
from calibrax.core import NotFoundError, RunStatus
from calibrax.storage import Store

STEP_AT = 18


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """30 runs of matmul n=64 (10% slower from run 18 on) and 4 runs of matmul n=32."""
    store = Store.open(tmp_path / "h.db")
    for i in range(30):
        run_id = f"r{i:02d}"
        store.begin_run(run_info(run_id, started_at=f"2026-11-26T00:{i:02d}:00+00:00"))
        store.add_case(run_id, time_case("matmul", {"n": 64}, 1e-3 * (1.10 if i >= STEP_AT else 1.0), seed=i))
        if i < 4:
            store.add_case(run_id, time_case("matmul", {"n": 32}, 5e-4, seed=i))
        store.finish_run(run_id, RunStatus.OK, f"2026-11-26T00:{i:02d}:30+00:00")
    return store


def test_cases_are_grouped_in_store_order_with_their_runs_oldest_first(store: Store) -> None:
    found = benchmark_history(store, "matmul")
    assert isinstance(found, BenchmarkHistory)
    assert (found.benchmark, found.measure, found.method, found.alpha) == ("matmul", "time", "binseg", 0.01)
    assert [dict(c.params) for c in found.cases] == [{"n": 64}, {"n": 32}]
    long, short = found.cases
    assert [r.run_id for r in long.runs] == [f"r{i:02d}" for i in range(30)]
    assert all(isinstance(r, HistoryRun) and r.n == 20 and r.git_commit == "abc123" for r in long.runs)
    assert long.runs[0].median == pytest.approx(1e-3, rel=0.02)


def test_a_step_change_is_found_where_it_happened(store: Store) -> None:
    [case] = benchmark_history(store, "matmul", params={"n": 64}).cases
    [cp] = case.changepoints
    assert abs(cp.index - STEP_AT) <= 1 and cp.relative_change == pytest.approx(0.10, abs=0.02)
    assert cp.run_id == case.runs[cp.index].run_id and cp.p_value < 0.01
    assert case.note is None


@pytest.mark.parametrize("method", ["binseg", "edivisive"])
def test_both_methods_find_the_step(store: Store, method: str) -> None:
    [case] = benchmark_history(store, "matmul", params={"n": 64}, method=method).cases  # type: ignore[arg-type]
    assert [abs(c.index - STEP_AT) <= 1 for c in case.changepoints] == [True]


def test_a_short_case_gets_a_note_instead_of_changepoints(store: Store) -> None:
    [case] = benchmark_history(store, "matmul", params={"n": 32}).cases
    assert len(case.runs) == 4 < MIN_CHANGEPOINT_RUNS
    assert case.changepoints == () and case.note == "4 runs: changepoints need at least 10"


def test_to_dict_is_the_json_shape_of_calibrax_history(store: Store) -> None:
    [case] = benchmark_history(store, "matmul", params={"n": 64}).cases
    data = case.to_dict()
    assert list(data) == ["params", "runs", "changepoints", "note", "annotations"]  # keys only ever added
    assert data["params"] == {"n": 64}
    assert list(data["runs"][0]) == ["run_id", "started_at", "git_commit", "params", "median", "ci_low", "ci_high", "n"]
    assert data["runs"] == store.history("matmul", "time", {"n": 64})
    assert set(data["changepoints"][0]) >= {"index", "run_id", "commit", "before", "after", "relative_change",
                                             "p_value"}


def test_results_are_frozen(store: Store) -> None:
    case = benchmark_history(store, "matmul").cases[0]
    with pytest.raises(FrozenInstanceError):
        case.note = "x"  # type: ignore[misc]
    assert isinstance(case, CaseHistory)


@pytest.mark.parametrize("args", [("nope", "time", None), ("matmul", "flops", None), ("matmul", "time", {"n": 7})])
def test_nothing_stored_is_a_not_found_error_that_says_where_to_look(store: Store, args: tuple) -> None:  # type: ignore[type-arg]
    with pytest.raises(NotFoundError, match=r"No stored ok results of .* match; see calibrax benchmarks list"):
        benchmark_history(store, *args)


def test_an_excluded_run_is_not_in_the_history_and_its_exclusion_is_listed(store: Store) -> None:
    store.exclude("r05", "noisy host", benchmark="matmul", params={"n": 64})
    found = benchmark_history(store, "matmul", params={"n": 64})
    assert "r05" not in [r.run_id for r in found.cases[0].runs] and len(found.cases[0].runs) == 29
    assert [(a.kind, a.run_id, a.text) for a in found.annotations] == [("exclude", "r05", "noisy host")]


def test_an_accepted_shift_restarts_the_changepoint_search(store: Store) -> None:
    store.accept(f"r{STEP_AT:02d}", "the slower kernel is intended")
    [case] = benchmark_history(store, "matmul", params={"n": 64}).cases
    assert case.changepoints == () and case.note is None  # both segments searched, the step is their border
    assert [a.kind for a in benchmark_history(store, "matmul", params={"n": 64}).annotations] == ["accept"]


def test_segments_start_at_the_first_run_at_or_after_each_accepted_run() -> None:
    from calibrax.ci.history import segment_starts

    assert segment_starts(["a", "b", "c", "d"], ["b", "b2", "z"]) == [0, 1, 2]
    assert segment_starts(["a", "b"], ["0"]) == [0]


def test_an_accepted_shift_of_one_case_restarts_only_that_case(store: Store) -> None:
    store.accept("r02", "n=32 got a new kernel", benchmark="matmul", params={"n": 32})
    store.accept(f"r{STEP_AT:02d}", "the compiler changed", measure="compile_time")
    long, short = benchmark_history(store, "matmul").cases
    assert [c.index for c in long.changepoints] == [STEP_AT]  # neither acceptance concerns n=64's time
    assert long.annotations == ()
    assert [(a.kind, a.run_id, a.target) for a in short.annotations] == [("accept", "r02", 'matmul{"n": 32}')]
    assert short.note == "2 segments after accepted shifts, each under 10 runs"
    store.accept(f"r{STEP_AT:02d}", "n=64 is slower on purpose", benchmark="matmul", params={"n": 64},
                 measure="time")
    long = benchmark_history(store, "matmul").cases[0]
    assert long.changepoints == () and [a.text for a in long.annotations] == ["n=64 is slower on purpose"]


def test_the_json_of_a_case_lists_its_annotations(store: Store) -> None:
    store.annotate("r03", "runner image updated")
    store.exclude("r05", "noisy host", benchmark="matmul", params={"n": 64})
    long, short = (c.to_dict() for c in benchmark_history(store, "matmul").cases)
    assert set(long) == {"params", "runs", "changepoints", "note", "annotations"}
    assert [(a["kind"], a["run_id"], a["target"], a["text"]) for a in long["annotations"]] == [
        ("note", "r03", "run", "runner image updated"), ("exclude", "r05", 'matmul{"n": 64}', "noisy host")]
    assert [a["kind"] for a in short["annotations"]] == ["note"]
    assert set(long["annotations"][0]) == {"id", "run_id", "kind", "text", "created_at", "benchmark", "params_key",
                                           "measure", "target"}
