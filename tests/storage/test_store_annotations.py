"""Annotations in the store: notes, exclusions, accepted shifts, and stores older than them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from factories import add_run

from calibrax.core import CalibraxError, NotFoundError
from calibrax.storage import SCHEMA_VERSION, Annotation, Store
from calibrax.storage._schema import MIGRATIONS, _add_annotations, _annotation_measure


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "a.db")
    for i, center in enumerate([1e-3, 1e-3, 3e-3, 1.2e-3, 1.2e-3]):
        add_run(store, f"r{i}", center, f"{i:02d}")
    return store


def test_annotations_are_stored_and_listed_in_the_order_made(store: Store) -> None:
    note = store.annotate("r1", "  new runner image  ")
    accepted = store.accept("r3", "intended")
    assert isinstance(note, Annotation) and note.text == "new runner image" and note.target == "run"
    assert [a.kind for a in store.load_annotations()] == ["note", "accept"]
    assert store.load_annotations(kind="accept") == [accepted]
    assert store.load_annotations(run_id="r1") == [note]
    assert store.annotate("latest", "last one").run_id == "r4"


def test_an_excluded_case_is_left_out_of_histories_and_the_others_stay(store: Store) -> None:
    made = store.exclude("r2", "noisy", benchmark="matmul", params={"n": 128})
    assert made.target == 'matmul{"n": 128}'
    assert [r["run_id"] for r in store.history("matmul")] == ["r0", "r1", "r3", "r4"]
    assert [r["run_id"] for r in store.history("softmax")] == ["r0", "r1", "r2", "r3", "r4"]
    assert "r2" not in {row[0] for row in store.recent_medians("r4") if row[3] == "matmul"}


def test_a_run_exclusion_leaves_every_case_of_it_out(store: Store) -> None:
    store.exclude("r2", "bad host")
    assert [r["run_id"] for r in store.history("softmax")] == ["r0", "r1", "r3", "r4"]
    store.exclude("r1", "benchmark broken", benchmark="softmax")
    assert [r["run_id"] for r in store.history("softmax")] == ["r0", "r3", "r4"]
    assert [r["run_id"] for r in store.history("matmul")] == ["r0", "r1", "r3", "r4"]


def test_history_since_accept_starts_at_the_newest_accepted_run(store: Store) -> None:
    assert len(store.history("matmul", since_accept=True)) == 5
    store.accept("r1", "first")
    store.accept("r3", "second")
    assert [r["run_id"] for r in store.history("matmul", since_accept=True)] == ["r3", "r4"]
    assert len(store.history("matmul")) == 5


def test_an_accepted_shift_of_one_case_restarts_only_that_case(store: Store) -> None:
    made = store.accept("r2", "the new kernel", benchmark="matmul", params={"n": 128})
    assert (made.benchmark, made.params_key, made.measure, made.target) == ("matmul", '{"n": 128}', None,
                                                                            'matmul{"n": 128}')
    assert [r["run_id"] for r in store.history("matmul", since_accept=True)] == ["r2", "r3", "r4"]
    assert len(store.history("softmax", since_accept=True)) == 5
    store.accept("r3", "softmax rewritten", benchmark="softmax")
    assert [r["run_id"] for r in store.history("softmax", since_accept=True)] == ["r3", "r4"]
    assert [r["run_id"] for r in store.history("matmul", since_accept=True)] == ["r2", "r3", "r4"]


def test_an_accepted_shift_of_one_measure_leaves_the_others_alone(store: Store) -> None:
    made = store.accept("r3", "compiler upgrade", measure="compile_time")
    assert made.target == "run (compile_time)" and store.load_annotations(kind="accept") == [made]
    assert [r["run_id"] for r in store.history("matmul", "compile_time", since_accept=True)] == ["r3", "r4"]
    assert len(store.history("matmul", "time", since_accept=True)) == 5
    assert made.applies_to("matmul", '{"n": 128}', "compile_time")
    assert not made.applies_to("matmul", '{"n": 128}', "time")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda s: s.accept("r1", "why", benchmark="conv"), NotFoundError, "its benchmarks are: matmul, softmax"),
    (lambda s: s.accept("r1", "why", benchmark="matmul", params={"n": 7}), NotFoundError, r'params \{"n": 128\}'),
    (lambda s: s.accept("r1", "why", params={"n": 7}), CalibraxError, "give the benchmark too"),
    (lambda s: s.accept("r1", "why", measure="flops"), NotFoundError,
     "has the measure 'flops'; its measures are: compile_time, time"),
    (lambda s: s.accept("r1", "why", benchmark="softmax", measure="rss"), NotFoundError,
     r"No case of run 'r1' \(softmax\) has the measure 'rss'"),
    (lambda s: s.annotate("r1", "   "), CalibraxError, "a note of 1 to 2000"),
    (lambda s: s.accept("r1", "x" * 2001), CalibraxError, r"a reason \(--why\)"),
    (lambda s: s.exclude("nope", "why"), NotFoundError, "No run matches 'nope'"),
    (lambda s: s.exclude("r1", "why", benchmark="conv"), NotFoundError, "its benchmarks are: matmul, softmax"),
    (lambda s: s.exclude("r1", "why", benchmark="matmul", params={"n": 7}), NotFoundError, r'params \{"n": 128\}'),
    (lambda s: s.exclude("r1", "why", params={"n": 7}), CalibraxError, "give the benchmark too"),
])
def test_bad_annotations_are_refused_and_nothing_is_stored(store: Store, call, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call(store)
    assert store.load_annotations() == []


def test_a_store_from_before_annotations_migrates_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        add_run(store, "old", 1e-3, "01")
    conn = sqlite3.connect(path)  # the schema one migration before annotations (and what came after)
    conn.execute("DROP TABLE annotations")
    conn.execute("DROP INDEX cases_publish")
    conn.execute("DROP TABLE IF EXISTS alert_deliveries")
    before = MIGRATIONS.index(_add_annotations)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(before)])
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.load_annotations() == []
        store.exclude("old", "migrated", benchmark="matmul")
        assert store.history("matmul") == [] and len(store.history("softmax")) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()


def test_a_store_from_before_measure_scoped_acceptance_migrates_and_keeps_its_annotations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        add_run(store, "old", 1e-3, "01")
        add_run(store, "new", 2e-3, "02")
        store.accept("new", "made before measures could be named")
    conn = sqlite3.connect(path)  # the schema one migration before annotations.measure
    conn.execute("ALTER TABLE annotations DROP COLUMN measure")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(MIGRATIONS.index(_annotation_measure))])
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        [old] = store.load_annotations()
        assert (old.kind, old.run_id, old.measure) == ("accept", "new", None)
        assert [r["run_id"] for r in store.history("matmul", since_accept=True)] == ["new"]
        assert store.accept("old", "a measure of its own", measure="compile_time").measure == "compile_time"
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
