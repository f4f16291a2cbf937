"""The interleaved gate's evidence in the store: the linked baseline run and both sides' trial values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from factories import add_run, run_info, time_case

from calibrax.core import NotFoundError, RunStatus, StoreError
from calibrax.storage import SCHEMA_VERSION, InterleavedLink, Store, TrialValue
from calibrax.storage._schema import MIGRATIONS, _interleaved_links

KEY = 'matmul{"n": 128}'


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """r0 and r1 plain runs, r1b the baseline side of r1's interleaved gate (started after r1)."""
    store = Store.open(tmp_path / "a.db")
    add_run(store, "r0", 1e-3, "01")
    add_run(store, "r1", 1.1e-3, "02")
    store.begin_run(run_info("r1b", started_at="2026-11-26T00:00:09+00:00"), interleaved_of="r1")
    store.add_case("r1b", time_case("matmul", {"n": 128}, 0.5e-3, n=6))
    store.finish_run("r1b", RunStatus.OK, "2026-11-26T00:02:00+00:00")
    return store


def test_the_linked_baseline_run_is_listed_but_never_latest_nor_in_a_history(store: Store) -> None:
    assert [r.id for r in store.list_runs()] == ["r1b", "r1", "r0"]
    assert store.get_run("latest").id == "r1"
    assert [r["run_id"] for r in store.history("matmul")] == ["r0", "r1"]
    assert {row[0] for row in store.recent_medians("r1b")} == {"r0", "r1", "r1b"}  # the report marks it
    rowids = {row[1]: row[0] for row in store.runs_table()}
    assert rowids["r1b"] not in {row[3] for row in store.case_rows()["rows"]}
    link = InterleavedLink("r1", "r1b")
    assert store.interleaved_links() == {"r1": link, "r1b": link}
    assert store.interleaved_links(["r0", "r1"]) == {"r1": link}
    assert store.interleaved_baseline_of("r1") == "r1b" and store.interleaved_baseline_of("r0") is None
    assert link.other("r1") == "r1b" and link.other("r1b") == "r1"


def test_a_linked_baseline_run_cannot_become_a_named_baseline(store: Store) -> None:
    with pytest.raises(StoreError, match="holds the baseline side's trial values of the interleaved gate of run 'r1'"):
        store.set_baseline("main", "r1b")
    with pytest.raises(StoreError, match="cannot be the baseline 'main'; use run 'r1' or another run"):
        store.set_baseline("main", "r1b")
    assert store.list_baselines() == []
    assert store.set_baseline("main").run_id == "r1"


def test_a_link_must_name_a_stored_candidate_that_is_not_a_baseline_run_itself(store: Store) -> None:
    with pytest.raises(NotFoundError, match="No run with id 'nope'"):
        store.begin_run(run_info("x"), interleaved_of="nope")
    with pytest.raises(StoreError, match="is itself the interleaved baseline of 'r1'"):
        store.begin_run(run_info("y"), interleaved_of="r1b")
    assert [r.id for r in store.list_runs()] == ["r1b", "r1", "r0"]


def test_trial_values_are_kept_in_trial_order_and_replaced_as_a_whole(store: Store) -> None:
    trials = [TrialValue(KEY, "time", p, a, v) for p, a, v in [(2, "B", 2.0), (1, "A", 1.0), (3, "B", 2.1),
                                                                 (4, "A", 1.1)]]
    store.add_trials("r1", trials)
    loaded = store.load_trials("r1")
    assert [(t.position, t.side, t.value) for t in loaded] == [
        (1, "baseline", 1.0), (2, "candidate", 2.0), (3, "candidate", 2.1), (4, "baseline", 1.1)]
    store.add_trials("r1", trials[:1])
    assert store.load_trials("r1") == (trials[0],)
    assert store.load_trials("r0") == ()


@pytest.mark.parametrize("bad", [TrialValue(KEY, "time", 1, "C", 1.0), TrialValue(KEY, "time", 0, "A", 1.0),
                                 TrialValue(KEY, "time", 1, "A", float("nan"))])
def test_a_malformed_trial_median_is_refused_and_nothing_is_stored(store: Store, bad: TrialValue) -> None:
    store.add_trials("r1", [TrialValue(KEY, "time", 1, "A", 1.0)])
    with pytest.raises(StoreError, match="needs arm 'A' or 'B', a position >= 1 and a finite value"):
        store.add_trials("r1", [TrialValue(KEY, "time", 2, "B", 2.0), bad])
    assert len(store.load_trials("r1")) == 1
    with pytest.raises(NotFoundError, match="No run with id 'nope'"):
        store.add_trials("nope", [])


def test_a_store_from_before_the_links_migrates_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        add_run(store, "old", 1e-3, "01")
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE interleaved_trials")
    conn.execute("DROP INDEX runs_interleaved_of")
    conn.execute("ALTER TABLE runs DROP COLUMN interleaved_of")
    before = MIGRATIONS.index(_interleaved_links)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(before)])
    conn.commit()
    conn.close()
    with Store.open(path, read_only=True) as store:  # migrated in memory only
        assert store.get_run("latest").id == "old" and store.interleaved_links() == {}
    with Store.open(path) as store:
        assert store.get_run("latest").id == "old"
        store.add_trials("old", [TrialValue(KEY, "time", 1, "A", 1.0)])
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
