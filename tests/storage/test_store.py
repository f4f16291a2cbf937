"""Tests of the Store API: round trips, write errors, run references, baselines, verdicts and
history. Opening files, the version-1 format, interrupted runs and concurrent writers are in
test_store_file.py."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrax.core import (
    STANDARD_MEASURES,
    CalibraxError,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    NotFoundError,
    RunInfo,
    RunStatus,
    StoreError,
    Summary,
    Verdict,
    VerdictKind,
)
from calibrax.storage import Baseline, Store
from calibrax.storage._runs import _CASES_SQL, _HISTORY_SQL, _LATEST_SQL

HARDWARE = HardwareInfo(
    backend="cpu",
    device_kind="cpu",
    device_count=1,
    cpu_model="Test CPU",
    cpu_count=8,
    memory_bytes=2**34,
    platform="Linux-x86_64",
    python="3.11.7",
    versions={"jax": "0.6.0"},
    extra={"numa_nodes": [0, 1]},
)


def ts(minute: int) -> str:
    return f"2025-01-01T00:{minute:02d}:00+00:00"


def run_info(run_id: str, minute: int = 0, **fields: Any) -> RunInfo:
    return RunInfo(id=run_id, started_at=ts(minute), status=RunStatus.RUNNING, **fields)


def timing(samples: tuple[float, ...], *, summary: bool = True) -> MeasureResult:
    stats = None
    if summary:
        ordered = sorted(samples)
        stats = Summary(
            n=len(samples),
            median=ordered[len(ordered) // 2],
            mean=sum(samples) / len(samples),
            min=ordered[0],
            max=ordered[-1],
            std=0.125,
            iqr=0.25,
            mad=0.0625,
            ci_low=ordered[0],
            ci_high=ordered[-1],
            ci_level=0.99,
        )
    meta = {"mode": "rounds", "calls_per_round": 10}
    return MeasureResult(STANDARD_MEASURES["time"], samples, stats, meta)


def ok_case(
    benchmark: str, params: dict[str, Any], samples: tuple[float, ...] = (1.0, 2.0, 3.0)
) -> CaseResult:
    measures = {"time": timing(samples)}
    return CaseResult(benchmark, params, CaseStatus.OK, measures, started_at=ts(1), duration=1.5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "calibrax.db") as s:
        yield s


# Round trips


def test_load_run_returns_what_was_written(store: Store) -> None:
    run = run_info(
        "r1",
        git=GitInfo("abc123", "main", True),
        hardware=HARDWARE,
        config={"suite": "default", "profile": {"rounds": 5, "warmup": [1, 2]}},
        overrides=("suite=default", "hardware=cpu"),
        sweep_id="sweep-1",
    )
    accuracy = Measure("accuracy", "1", Direction.HIGHER, "top-1 accuracy")
    custom = MeasureResult(accuracy, (0.91,), None, {"split": "val"})
    cases = (
        CaseResult(
            "matmul",
            {"n": 64, "dtype": "float32"},
            CaseStatus.OK,
            {"time": timing((3.0, 1.0, 2.0)), "accuracy": custom},
            started_at=ts(1),
            duration=2.25,
            meta={"worker_pid": 42, "donated": False},
        ),
        CaseResult("mlp", {"width": [8, 16]}, CaseStatus.ERROR, error="Traceback", duration=0.5),
        CaseResult("matmul", {"n": 128}, CaseStatus.OK, {"time": timing((4.0,), summary=False)}),
    )
    store.begin_run(run)
    for case in cases:
        store.add_case("r1", case)
    store.finish_run("r1", RunStatus.FAILED, ts(3))

    record = store.load_run("r1")
    assert record.run == dataclasses.replace(run, status=RunStatus.FAILED, finished_at=ts(3))
    assert record.cases == cases
    assert list(record.cases[0].measures) == ["time", "accuracy"]
    assert record.verdicts == ()


def test_begin_run_stores_a_running_run_owned_by_this_process(store: Store) -> None:
    store.begin_run(dataclasses.replace(run_info("r1"), status=RunStatus.OK, finished_at=ts(5)))
    assert store.get_run("r1") == run_info("r1")
    row = sqlite3.connect(store.path).execute("SELECT pid, hostname FROM runs").fetchone()
    assert row[0] == os.getpid() and row[1]


def test_hardware_has_one_row_per_fingerprint_and_runs_keep_their_versions(store: Store) -> None:
    same = dataclasses.replace(HARDWARE, versions={**HARDWARE.versions, "numpy": "2.0"})  # not part of comparability
    newer = dataclasses.replace(HARDWARE, versions={"jax": "0.7.0"})  # another jax: not comparable
    for i, hw in enumerate((HARDWARE, same, newer)):
        store.begin_run(run_info(f"r{i}", i))
        store.set_run_hardware(f"r{i}", hw)
    assert [store.get_run(f"r{i}").hardware for i in range(3)] == [HARDWARE, same, newer]
    assert same.fingerprint == HARDWARE.fingerprint != newer.fingerprint
    rows = sqlite3.connect(store.path).execute("SELECT fingerprint, cpu_model FROM hardware ORDER BY rowid")
    assert rows.fetchall() == [(HARDWARE.fingerprint, "Test CPU"), (newer.fingerprint, "Test CPU")]


reals = st.floats(allow_nan=False)  # NaN != NaN, so records holding it never compare equal
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | reals | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
json_dicts = st.dictionaries(st.text(max_size=6), json_values, max_size=4)
summaries = st.builds(Summary, st.integers(0, 10**6), *[reals] * 10)


@st.composite
def measure_results(draw: st.DrawFn, name: str) -> MeasureResult:
    unit, description = draw(st.text(max_size=5)), draw(st.text(max_size=5))
    measure = Measure(name, unit, draw(st.sampled_from(Direction)), description)
    samples = tuple(draw(st.lists(reals, max_size=5)))
    return MeasureResult(measure, samples, draw(st.none() | summaries), draw(json_dicts))


@st.composite
def case_results(draw: st.DrawFn) -> CaseResult:
    names = draw(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=3))
    return CaseResult(
        benchmark=draw(st.text(min_size=1, max_size=10)),
        params=draw(json_dicts),
        status=draw(st.sampled_from(CaseStatus)),
        measures={n: draw(measure_results(n)) for n in names},
        error=draw(st.none() | st.text(max_size=20)),
        started_at=draw(st.text(max_size=10)),
        duration=draw(reals),
        meta=draw(json_dicts),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(case_results(), min_size=1, max_size=3))
def test_any_json_case_round_trips(cases: list[CaseResult]) -> None:
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "c.db") as s:
        s.begin_run(run_info("r"))
        for case in cases:
            s.add_case("r", case)
        assert s.load_run("r").cases == tuple(cases)


# Write errors


def test_duplicate_run_id_is_refused(store: Store) -> None:
    store.begin_run(run_info("r1"))
    with pytest.raises(StoreError, match="'r1' is already stored"):
        store.begin_run(run_info("r1", 2))


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.add_case("nope", ok_case("b", {})),
        lambda s: s.finish_run("nope", RunStatus.OK, ts(1)),
        lambda s: s.set_run_hardware("nope", HARDWARE),
        lambda s: s.add_verdicts("nope", "r1", []),
    ],
    ids=["add_case", "finish_run", "set_run_hardware", "add_verdicts"],
)
def test_writes_to_an_unknown_run_raise_not_found(
    store: Store, write: Callable[[Store], None]
) -> None:
    with pytest.raises(NotFoundError, match="No run with id 'nope'.*call begin_run"):
        write(store)


def test_measure_keyed_by_another_name_is_refused(store: Store) -> None:
    store.begin_run(run_info("r1"))
    case = CaseResult("b", {}, CaseStatus.OK, {"wall": timing((1.0,))})
    with pytest.raises(StoreError, match="measure key 'wall' differs .* 'time'"):
        store.add_case("r1", case)


def test_add_case_is_one_transaction(store: Store) -> None:
    store.begin_run(run_info("r1"))
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "CREATE TRIGGER fail BEFORE INSERT ON samples BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    with pytest.raises(StoreError, match="Writing the store .* boom"):
        store.add_case("r1", ok_case("b", {"n": 1}))
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT count(*) FROM cases").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM measures").fetchone() == (0,)
    conn.execute("DROP TRIGGER fail")
    conn.commit()
    store.add_case("r1", ok_case("b", {"n": 2}))
    assert [c.params for c in store.load_run("r1").cases] == [{"n": 2}]


def test_a_locked_store_waits_busy_timeout_then_raises(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db", busy_timeout=0.3) as s:
        s.begin_run(run_info("r1"))
        other = sqlite3.connect(s.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        start = time.monotonic()
        with pytest.raises(StoreError, match="locked.*busy_timeout"):
            s.add_case("r1", ok_case("b", {}))
        assert 0.25 < time.monotonic() - start < 10
        other.execute("ROLLBACK")


# Run references and listing


def test_resolve_run_id_accepts_latest_full_ids_and_unique_prefixes(store: Store) -> None:
    for run_id, minute in [("abc", 5), ("abcd-1", 1), ("abcd-2", 3), ("xyz", 2)]:
        store.begin_run(run_info(run_id, minute))
    assert store.resolve_run_id("latest") == "abc"
    assert store.resolve_run_id("abc") == "abc"  # a full id wins over longer ids it starts
    assert store.resolve_run_id("abcd-2") == "abcd-2"
    assert store.resolve_run_id("x") == "xyz"
    assert store.get_run("xy").id == "xyz"


def test_ambiguous_prefix_lists_the_matches(store: Store) -> None:
    store.begin_run(run_info("abcd-1"))
    store.begin_run(run_info("abcd-2"))
    with pytest.raises(NotFoundError, match=r"'abc' is the start of several run ids \(abcd-1, "):
        store.resolve_run_id("abc")


@pytest.mark.parametrize("ref", ["nope", ""])
def test_unknown_run_ref_lists_recent_runs(store: Store, ref: str) -> None:
    for i in range(7):
        store.begin_run(run_info(f"run-{i}", i))
    with pytest.raises(NotFoundError, match=f"No run matches '{ref}'") as err:
        store.load_run(ref)
    assert "run-6, run-5, run-4, run-3, run-2." in str(err.value)
    assert "run-1" not in str(err.value)


def test_latest_in_an_empty_store_says_there_are_no_runs(store: Store) -> None:
    with pytest.raises(NotFoundError, match="has no runs yet"):
        store.get_run("latest")


def test_list_runs_newest_first_with_limit_and_sweep(store: Store) -> None:
    store.begin_run(run_info("b", 2, sweep_id="s1"))
    store.begin_run(run_info("a", 1, sweep_id="s1"))
    store.begin_run(run_info("c", 3))
    assert [r.id for r in store.list_runs()] == ["c", "b", "a"]
    assert [r.id for r in store.list_runs(limit=2)] == ["c", "b"]
    assert [r.id for r in store.list_runs(sweep_id="s1")] == ["b", "a"]
    assert store.list_runs(limit=0) == []


def test_list_runs_refuses_a_negative_limit(store: Store) -> None:
    with pytest.raises(CalibraxError, match="got -1"):
        store.list_runs(limit=-1)


# Baselines and verdicts


def test_baselines_set_move_list_get_and_remove(store: Store) -> None:
    store.begin_run(run_info("r1", 1))
    store.begin_run(run_info("r2", 2))
    main = store.set_baseline("main")
    assert (main.name, main.run_id) == ("main", "r2")
    assert main.created_at.endswith("+00:00")
    store.set_baseline("release", "r1")
    moved = store.set_baseline("main", "r1")
    listed = [(b.name, b.run_id) for b in store.list_baselines()]
    assert listed == [("main", "r1"), ("release", "r1")]
    assert store.get_baseline("main") == moved == Baseline("main", "r1", moved.created_at)
    store.remove_baseline("main")
    assert [b.name for b in store.list_baselines()] == ["release"]


@pytest.mark.parametrize(
    "action",
    [lambda s: s.get_baseline("mian"), lambda s: s.remove_baseline("mian")],
    ids=["get", "remove"],
)
def test_unknown_baseline_suggests_close_names(
    store: Store, action: Callable[[Store], None]
) -> None:
    store.begin_run(run_info("r1"))
    store.set_baseline("main", "r1")
    message = r"Unknown baseline 'mian'\. Did you mean 'main'\?.*`calibrax baseline set NAME"
    with pytest.raises(NotFoundError, match=message):
        action(store)


def test_set_baseline_refuses_an_empty_name_and_an_unknown_run(store: Store) -> None:
    store.begin_run(run_info("r1"))
    with pytest.raises(CalibraxError, match="must not be empty"):
        store.set_baseline(" ")
    with pytest.raises(NotFoundError, match="No run matches 'r9'"):
        store.set_baseline("main", "r9")
    assert store.list_baselines() == []


def test_verdicts_round_trip_and_a_new_check_replaces_them(store: Store) -> None:
    store.begin_run(run_info("base"))
    store.begin_run(run_info("cand", 1))
    first = [
        Verdict("matmul", {"n": 64}, "time", VerdictKind.REGRESSED, 1.2, 1.0, 1.2, 0.05, "Slower."),
        Verdict("mlp", {}, "time", VerdictKind.MISSING, None, 1.0, None, 0.05, "Not measured."),
    ]
    store.add_verdicts("cand", "base", first)
    assert store.load_verdicts("cand") == first
    second = [dataclasses.replace(first[0], kind=VerdictKind.PASS)]
    store.add_verdicts("cand", "base", second)
    assert store.load_verdicts("cand") == second
    assert store.load_verdicts("base") == []


# History


def test_history_lists_ok_cases_oldest_first_filtered_by_params(store: Store) -> None:
    for run_id, minute, commit in [("new", 5, "c2"), ("old", 1, "c1")]:
        store.begin_run(run_info(run_id, minute, git=GitInfo(commit=commit)))
        store.add_case(run_id, ok_case("matmul", {"n": 64, "dtype": "f32"}, (1.0, 2.0, 3.0)))
        store.add_case(run_id, ok_case("matmul", {"n": 128, "dtype": "f32"}))
        store.add_case(run_id, CaseResult("matmul", {"n": 256}, CaseStatus.ERROR, error="boom"))
        store.add_case(run_id, ok_case("other", {"n": 64}))
    summary = {"median": 2.0, "ci_low": 1.0, "ci_high": 3.0, "n": 3}
    params = {"n": 64, "dtype": "f32"}
    assert store.history("matmul", params={"n": 64}) == [
        {"run_id": "old", "started_at": ts(1), "git_commit": "c1", "params": params, **summary},
        {"run_id": "new", "started_at": ts(5), "git_commit": "c2", "params": params, **summary},
    ]
    assert [r["params"]["n"] for r in store.history("matmul")] == [64, 128, 64, 128]
    assert store.history("matmul", measure="flops") == []
    assert store.history("matmul", params={"n": 64, "dtype": "bf16"}) == []


@pytest.mark.parametrize(
    "sql, args, index",
    [
        (_HISTORY_SQL, ["time", "matmul"], "cases_history"),
        (_CASES_SQL, ["r1"], "cases_run_seq"),
        (_LATEST_SQL, [1], "runs_started_at"),
    ],
)
def test_queries_use_their_index(store: Store, sql: str, args: list[object], index: str) -> None:
    plan = sqlite3.connect(store.path).execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
    assert index in " ".join(str(row[-1]) for row in plan)
