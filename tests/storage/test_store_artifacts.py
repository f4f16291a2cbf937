"""Files written for a case (schema version 5): the artifacts table, its API and the v4 -> v5 migration."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from factories import add_run, time_case
from sqlite_utils import Database

from calibrax.core import NotFoundError, RunStatus, StoreError
from calibrax.storage import SCHEMA_VERSION, Store
from calibrax.storage._schema import MIGRATIONS
from tests.storage.test_store_file import schema_of

SUMMARY = {"scope": "host", "ops": [{"op": "dot.1", "module": "jit_f", "count": 3, "total_us": 30.0}]}


def test_artifacts_are_stored_per_case_and_replaced_by_name(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db") as store:
        add_run(store, "r1", 1e-3, "01")
        first = store.add_artifact("r1", 1, "trace", "/t/softmax/perfetto_trace.json.gz", kind="perfetto_trace",
                                   summary=SUMMARY)
        store.add_artifact("r1", 0, "trace", "/t/old.json.gz", kind="perfetto_trace")
        store.add_artifact("r1", 0, "trace", "/t/matmul/perfetto_trace.json.gz", kind="perfetto_trace")
        store.add_artifact("r1", 0, "notes", "/t/matmul/notes.txt")
        loaded = store.load_artifacts("r1")
        assert [(a.case_seq, a.name, a.path) for a in loaded] == [
            (0, "notes", "/t/matmul/notes.txt"), (0, "trace", "/t/matmul/perfetto_trace.json.gz"),
            (1, "trace", "/t/softmax/perfetto_trace.json.gz")]
        assert loaded[2] == first and loaded[2].summary == SUMMARY
        assert [a.name for a in store.load_artifacts("r1", kind="perfetto_trace", case_seq=0)] == ["trace"]
        with pytest.raises(NotFoundError, match="has no case at position 2"):
            store.add_artifact("r1", 2, "trace", "/t/x")
        with pytest.raises(NotFoundError, match="has no case at position 0"):
            store.add_artifact("nope", 0, "trace", "/t/x")
        assert store.load_artifacts("nope") == []


def test_add_case_stores_the_artifacts_its_meta_lists_at_its_position(tmp_path: Path) -> None:
    trace = {"path": "/t/mm/perfetto_trace.json.gz", "kind": "perfetto_trace", "summary": SUMMARY}
    with Store.open(tmp_path / "a.db") as store:
        add_run(store, "r1", 1e-3, "01")  # cases 0 and 1
        store.add_case("r1", replace(time_case("matmul", {"n": 8}, 1e-3), artifacts={"trace": trace}))
        [stored] = store.load_artifacts("r1")
        assert (stored.case_seq, stored.name, stored.path, stored.kind, stored.summary) == (
            2, "trace", trace["path"], "perfetto_trace", SUMMARY)
        bad = replace(time_case("matmul", {"n": 16}, 1e-3), artifacts={"trace": {"kind": "perfetto_trace"}})
        with pytest.raises(StoreError, match=r"artifacts\['trace'\] must be a mapping with a 'path'"):
            store.add_case("r1", bad)
        assert len(store.load_run("r1").cases) == 3  # the malformed case wrote nothing


def _write_v4_store(path: Path) -> None:
    """A store in the version-4 format holding one finished run: the version-4 tables are those of
    version 5 without ``artifacts``, so a new store with that table dropped is one."""
    with Store.open(path) as store:
        add_run(store, "old", 1e-3, "02")
    conn = sqlite3.connect(path)
    conn.executescript("DROP TRIGGER cases_stamp_insert; DROP TRIGGER cases_stamp_delete; "
                       "DROP TRIGGER cases_stamp_rename; DROP TABLE benchmark_stamps;")  # a later migration
    conn.execute("DROP TABLE alert_deliveries")  # added by a later migration
    conn.execute("DROP TABLE interleaved_trials")  # added by a later migration, with the column below
    conn.execute("DROP INDEX runs_interleaved_of")
    conn.execute("ALTER TABLE runs DROP COLUMN interleaved_of")
    conn.execute("DROP TABLE artifacts")
    conn.execute("DROP TABLE benchmark_results")
    conn.execute("DROP TABLE annotations")
    conn.execute("DROP INDEX cases_publish")
    conn.execute("ALTER TABLE measures DROP COLUMN basis")
    conn.execute("ALTER TABLE measures DROP COLUMN provenance")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_the_version_4_tables_are_those_of_the_first_four_migrations(tmp_path: Path) -> None:
    _write_v4_store(tmp_path / "v4.db")
    db = Database(sqlite3.connect(tmp_path / "fresh.db"))
    for step in MIGRATIONS[:4]:
        step(db)
    db.conn.commit()
    assert schema_of(tmp_path / "v4.db") == schema_of(tmp_path / "fresh.db")


def test_a_version_4_store_migrates_to_the_newest_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    _write_v4_store(path)
    with Store.open(path) as store:
        assert store.get_run("old").status is RunStatus.OK
        assert [c.benchmark for c in store.load_run("old").cases] == ["matmul", "softmax"]
        assert store.load_artifacts("old") == []
        store.add_artifact("old", 0, "trace", "/t/a.json.gz", kind="perfetto_trace", summary=SUMMARY)
        assert store.load_artifacts("old")[0].summary == SUMMARY
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
    Store.open(tmp_path / "new.db").close()
    assert schema_of(path) == schema_of(tmp_path / "new.db")
