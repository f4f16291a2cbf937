"""Per-benchmark stamps kept by triggers, so a re-publish learns what changed without a pass
over every case row: they must always equal what counting the rows says."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from factories import add_run, run_info, time_case

from calibrax.storage import SCHEMA_VERSION, Store
from calibrax.storage._schema import MIGRATIONS, _benchmark_stamps

_COUNTED = "SELECT benchmark, COUNT(*), MAX(id) FROM cases GROUP BY benchmark"


def _counted(path: Path) -> dict[str, tuple[int, int]]:
    conn = sqlite3.connect(path)
    try:
        return {b: (n, last) for b, n, last in conn.execute(_COUNTED).fetchall()}
    finally:
        conn.close()


def test_stamps_follow_every_added_case(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        assert store.benchmark_stamps() == {}
        add_run(store, "r1", 1e-3, "01")
        add_run(store, "r2", 1e-3, "02")
        store.begin_run(run_info("r3", started_at="2026-11-26T00:00:03+00:00"))
        store.add_case("r3", time_case("conv", {"k": 3}, 5e-3))
        stamps = store.benchmark_stamps()
    assert stamps == _counted(path) == {"matmul": (2, 3), "softmax": (2, 4), "conv": (1, 5)}


def test_a_deleted_run_lowers_its_benchmarks_counts_and_a_gone_benchmark_has_no_stamp(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        add_run(store, "r1", 1e-3, "01")
        add_run(store, "r2", 1e-3, "02")
        store.begin_run(run_info("r3", started_at="2026-11-26T00:00:03+00:00"))
        store.add_case("r3", time_case("conv", {"k": 3}, 5e-3))
        before = store.benchmark_stamps()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")  # the cases go with their run (ON DELETE CASCADE)
    conn.execute("DELETE FROM runs WHERE id IN ('r2', 'r3')")
    conn.commit()
    conn.close()
    with Store.open(path, read_only=True) as store:
        after = store.benchmark_stamps()
    # the count says what is there; the newest id stays the newest ever stored, so the stamp
    # differs from before however the rows changed
    assert after == {"matmul": (1, 3), "softmax": (1, 4)} and after != before
    assert {b: n for b, (n, _) in after.items()} == {b: n for b, (n, _) in _counted(path).items()}


def test_renaming_a_case_moves_it_between_stamps(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        add_run(store, "r1", 1e-3, "01")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE cases SET benchmark = 'matmul_v2' WHERE benchmark = 'matmul'")
    conn.commit()
    conn.close()
    with Store.open(path, read_only=True) as store:
        assert store.benchmark_stamps() == _counted(path) == {"matmul_v2": (1, 1), "softmax": (1, 2)}


def test_a_store_from_before_the_stamps_is_counted_once_when_it_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        add_run(store, "r1", 1e-3, "01")
        add_run(store, "r2", 2e-3, "02")
    conn = sqlite3.connect(path)  # the schema one migration before the stamps
    conn.executescript("DROP TRIGGER cases_stamp_insert; DROP TRIGGER cases_stamp_delete; "
                       "DROP TRIGGER cases_stamp_rename; DROP TABLE benchmark_stamps;")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(MIGRATIONS.index(_benchmark_stamps))])
    conn.commit()
    conn.close()
    with Store.open(path, read_only=True) as store:  # read from a migrated copy: the file is not touched
        assert store.benchmark_stamps() == {"matmul": (2, 3), "softmax": (2, 4)}
    with Store.open(path) as store:
        add_run(store, "r3", 1e-3, "03")
        assert store.benchmark_stamps() == _counted(path) == {"matmul": (3, 5), "softmax": (3, 6)}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
