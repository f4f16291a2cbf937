"""Tests of opening a store file: validation that never touches a bad file, the hand-written
version-1 format, runs left running by a killed process, and several processes writing at once."""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from calibrax.core import (
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    RunInfo,
    RunStatus,
    StoreError,
    Summary,
    VerdictKind,
)
from calibrax.storage import SCHEMA_VERSION, Store

NO_SUCH_PID = 2**31 - 1  # above any pid_max


def ts(minute: int) -> str:
    return f"2025-01-01T00:{minute:02d}:00+00:00"


def run_info(run_id: str, minute: int = 0) -> RunInfo:
    return RunInfo(id=run_id, started_at=ts(minute), status=RunStatus.RUNNING)


def timed_case(i: int, samples: tuple[float, ...]) -> CaseResult:
    time_measure = Measure("time", "s", Direction.LOWER)
    measures = {"time": MeasureResult(time_measure, samples)}
    return CaseResult("bench", {"i": i}, CaseStatus.OK, measures)


def assert_refused(path: Path, match: str, *, create: bool = True) -> None:
    """Opening ``path`` raises StoreError matching ``match`` and leaves its bytes unchanged."""
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError, match=match):
        Store.open(path, create=create)
    assert (path.read_bytes() if path.is_file() else None) == before


# Opening and validating files


def test_open_creates_a_wal_store_with_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "calibrax.db"
    with Store.open(path) as s:
        assert s.path == path
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)


def test_open_accepts_a_relative_path_and_reports_it_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open("calibrax.db") as s:
        assert s.path == tmp_path / "calibrax.db"


@pytest.mark.parametrize("content", [b"", None], ids=["empty-file", "sqlite-without-tables"])
def test_an_empty_file_becomes_a_store(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "calibrax.db"
    if content is None:
        sqlite3.connect(path).execute("VACUUM")
    else:
        path.write_bytes(content)
    with Store.open(path) as s:
        s.begin_run(run_info("r1"))
        assert s.get_run("latest").id == "r1"


def test_open_waits_for_a_writer_before_switching_to_wal(tmp_path: Path) -> None:
    # Changing the journal mode fails at once, without the busy handler, while another
    # connection holds the write lock: what processes opening a new store together meet.
    path = tmp_path / "calibrax.db"
    sqlite3.connect(path).execute("VACUUM")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, writer.execute, ["COMMIT"])
    release.start()
    with Store.open(path, busy_timeout=10) as s:
        s.begin_run(run_info("r1"))
    release.join()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database.\n" * 50)
    assert_refused(path, r"not a calibrax store \(not an SQLite database.*Choose another store")


def test_short_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "tiny.db"
    path.write_bytes(b"hi\n")
    assert_refused(path, "not an SQLite database")


def test_truncated_store_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as s:
        s.begin_run(run_info("r1"))
        for i in range(30):
            s.add_case("r1", timed_case(i, tuple(float(j) for j in range(200))))
    assert not Path(f"{path}-wal").exists()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    half = len(data) // 2
    message = rf"is truncated: it has {half} bytes but its SQLite header declares {len(data)}\."
    assert_refused(path, message)


def test_file_cut_inside_the_sqlite_header_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    Store.open(path).close()
    path.write_bytes(path.read_bytes()[:60])
    assert_refused(path, "is truncated: it has 60 bytes but its SQLite header declares 100")


def test_damaged_store_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:1000] = b"\xff" * 900  # the schema page, past the file header
    path.write_bytes(bytes(data))
    assert_refused(path, "Opening the store .* failed: .*malformed.*restore it from a backup")


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('ada')")
    assert_refused(path, r"an SQLite database but not a calibrax store \(it has tables users")


def test_foreign_database_with_a_meta_table_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (name TEXT, content TEXT)")
    assert_refused(path, "not a calibrax store")


def test_newer_schema_asks_to_upgrade_calibrax(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        newer = str(SCHEMA_VERSION + 1)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [newer])
    conn.close()
    assert_refused(path, f"schema version {SCHEMA_VERSION + 1}, newer than .* Upgrade calibrax")


def test_missing_or_empty_file_without_create_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path / "missing.db", "There is no calibrax store at", create=False)
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "empty.db").write_bytes(b"")
    assert_refused(tmp_path / "empty.db", "file is missing or empty", create=False)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, "is a directory; give a file path such as")


def test_a_path_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    assert_refused(tmp_path / "file" / "calibrax.db", "cannot be read or created")


# The version-1 format, written by hand so that it stays readable forever

V1_FIXTURE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hardware (fingerprint TEXT PRIMARY KEY, info TEXT NOT NULL, backend TEXT NOT NULL,
    device_kind TEXT NOT NULL, cpu_model TEXT NOT NULL);
CREATE TABLE runs (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL, git_commit TEXT, git_branch TEXT, git_dirty INTEGER,
    config TEXT NOT NULL DEFAULT '{}', overrides TEXT NOT NULL DEFAULT '[]', sweep_id TEXT,
    hardware_id TEXT REFERENCES hardware(fingerprint), hardware_info TEXT, pid INTEGER,
    hostname TEXT, created_at TEXT NOT NULL);
CREATE TABLE cases (id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    benchmark TEXT NOT NULL, params TEXT NOT NULL, params_key TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT, started_at TEXT NOT NULL DEFAULT '', duration REAL NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '{}');
CREATE TABLE measures (case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name TEXT NOT NULL, unit TEXT NOT NULL, direction TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', n INTEGER NOT NULL, median REAL, mean REAL, min REAL,
    max REAL, std REAL, iqr REAL, mad REAL, ci_low REAL, ci_high REAL, ci_level REAL,
    meta TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (case_id, name));
CREATE TABLE samples (case_id INTEGER NOT NULL, measure TEXT NOT NULL, "values" TEXT NOT NULL,
    PRIMARY KEY (case_id, measure),
    FOREIGN KEY (case_id, measure) REFERENCES measures(case_id, name) ON DELETE CASCADE);
CREATE TABLE baselines (name TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id),
    created_at TEXT NOT NULL);
CREATE TABLE verdicts (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    baseline_run_id TEXT NOT NULL, benchmark TEXT NOT NULL, params TEXT NOT NULL,
    measure TEXT NOT NULL, verdict TEXT NOT NULL, ratio REAL, baseline REAL, candidate REAL,
    margin REAL, message TEXT NOT NULL);
CREATE UNIQUE INDEX cases_run_seq ON cases(run_id, seq);
CREATE INDEX cases_history ON cases(benchmark, params_key);
CREATE INDEX runs_started_at ON runs(started_at);
CREATE INDEX runs_sweep ON runs(sweep_id);
CREATE INDEX verdicts_run ON verdicts(run_id);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO hardware VALUES ('13c762c6e9d88136', :hardware, 'cpu', 'cpu', 'Test CPU');
INSERT INTO runs VALUES ('v1run', '2024-06-01T12:00:00+00:00', '2024-06-01T12:05:00+00:00', 'ok',
    'deadbeef', 'main', 0, '{"suite": "default"}', '["suite=default"]', 'sweep-7',
    '13c762c6e9d88136', :hardware, 4242, 'build-host', '2024-06-01T12:00:00.5+00:00');
INSERT INTO runs VALUES ('v1dead', '2024-06-01T13:00:00+00:00', NULL, 'running', NULL, NULL, NULL,
    '{}', '[]', NULL, NULL, NULL, 2147483647, :host, '2024-06-01T13:00:00+00:00');
INSERT INTO cases VALUES (1, 'v1run', 0, 'matmul', '{"n": 64}', '{"n": 64}', 'ok', NULL,
    '2024-06-01T12:00:01+00:00', 3.5, '{"worker_pid": 7}');
INSERT INTO measures VALUES (1, 'time', 's', 'lower', 'wall time per call', 3, 0.002, 0.0021,
    0.001, 0.0033, 0.0005, 0.001, 0.0004, 0.001, 0.0033, 0.95, '{"rounds": 3}');
INSERT INTO samples VALUES (1, 'time', '[0.001, 0.002, 0.0033]');
INSERT INTO baselines VALUES ('main', 'v1run', '2024-06-01T12:06:00+00:00');
INSERT INTO verdicts VALUES ('v1run', 'v1run', 'matmul', '{"n": 64}', 'time', 'pass', 1.0, 0.002,
    0.002, 0.05, 'Unchanged.');
"""
V1_HARDWARE = (
    '{"backend": "cpu", "device_kind": "cpu", "device_count": 1, "cpu_model": "Test CPU", '
    '"cpu_count": 8, "memory_bytes": 17179869184, "platform": "Linux-x86_64", '
    '"python": "3.11.7", "versions": {"jax": "0.6.0"}, "extra": {}}'
)


def write_v1_fixture(path: Path) -> None:
    conn = sqlite3.connect(path)
    values = {"host": socket.gethostname(), "hardware": V1_HARDWARE}
    for statement in V1_FIXTURE.split(";\n"):
        conn.execute(statement, values)
    conn.commit()
    conn.close()


def schema_of(path: Path) -> dict[str, Any]:
    """Columns, keys, foreign keys and indexes of every table, independent of SQL layout."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    schema = {}
    for table in tables:
        indexes = {
            name: (unique, [c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")])
            for _, name, unique, *_ in conn.execute(f"PRAGMA index_list('{table}')")
        }
        schema[table] = {
            "columns": conn.execute(f"PRAGMA table_info('{table}')").fetchall(),
            "foreign_keys": conn.execute(f"PRAGMA foreign_key_list('{table}')").fetchall(),
            "indexes": indexes,
        }
    conn.close()
    return schema


def test_a_hand_written_version_1_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    write_v1_fixture(path)
    with Store.open(path, create=False) as s:
        record = s.load_run("v1run")
        assert record.run == RunInfo(
            "v1run",
            "2024-06-01T12:00:00+00:00",
            RunStatus.OK,
            GitInfo("deadbeef", "main", False),
            HardwareInfo("cpu", "cpu", 1, "Test CPU", 8, 2**34, "Linux-x86_64", "3.11.7",
                         {"jax": "0.6.0"}),
            {"suite": "default"},
            ("suite=default",),
            "sweep-7",
            "2024-06-01T12:05:00+00:00",
        )
        time_measure = MeasureResult(
            Measure("time", "s", Direction.LOWER, "wall time per call"),
            (0.001, 0.002, 0.0033),
            Summary(3, 0.002, 0.0021, 0.001, 0.0033, 0.0005, 0.001, 0.0004, 0.001, 0.0033),
            {"rounds": 3},
        )
        case = CaseResult(
            "matmul",
            {"n": 64},
            CaseStatus.OK,
            {"time": time_measure},
            started_at="2024-06-01T12:00:01+00:00",
            duration=3.5,
            meta={"worker_pid": 7},
        )
        assert record.cases == (case,)
        assert s.get_baseline("main").run_id == "v1run"
        assert [v.kind for v in s.load_verdicts("v1run")] == [VerdictKind.PASS]
        assert [r["median"] for r in s.history("matmul")] == [0.002]
        assert s.get_run("v1dead").status is RunStatus.INTERRUPTED


def test_a_migrated_version_1_store_has_the_schema_of_a_new_store(tmp_path: Path) -> None:
    # Fails when the schema is changed in place instead of by a new migration.
    write_v1_fixture(tmp_path / "v1.db")
    Store.open(tmp_path / "v1.db").close()
    Store.open(tmp_path / "new.db").close()
    assert schema_of(tmp_path / "v1.db") == schema_of(tmp_path / "new.db")


# Interrupted runs

KILLED_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from calibrax.core import CaseResult, CaseStatus, RunInfo, RunStatus
    from calibrax.storage import Store

    store = Store.open(sys.argv[1])
    store.begin_run(RunInfo("killed", "2025-01-01T00:00:00+00:00", RunStatus.RUNNING))
    for n in (1, 2):
        store.add_case("killed", CaseResult("bench", {"n": n}, CaseStatus.OK))
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_run_reads_interrupted_and_keeps_its_cases(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, str(path)], capture_output=True, timeout=120
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    status = sqlite3.connect(path).execute("SELECT status FROM runs").fetchone()
    assert status == ("running",)  # nothing has looked at it yet
    with Store.open(path) as s:
        record = s.load_run("killed")
    assert record.run.status is RunStatus.INTERRUPTED
    assert [c.params for c in record.cases] == [{"n": 1}, {"n": 2}]


def test_only_runs_whose_process_is_gone_are_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as s:
        for run_id in ["alive", "dead", "reused", "elsewhere", "finished"]:
            s.begin_run(run_info(run_id))
        s.finish_run("finished", RunStatus.OK, ts(9))
        # A live run in this process survives another open of the store.
        with Store.open(path) as again:
            assert again.get_run("alive").status is RunStatus.RUNNING
    with sqlite3.connect(path) as conn:
        gone = ("dead", "elsewhere", "finished")
        conn.execute("UPDATE runs SET pid = ? WHERE id IN (?, ?, ?)", [NO_SUCH_PID, *gone])
        conn.execute("UPDATE runs SET hostname = 'another-host' WHERE id = 'elsewhere'")
        conn.execute("UPDATE runs SET created_at = '2000-01-01T00:00:00+00:00' WHERE id = 'reused'")
    conn.close()
    with Store.open(path) as s:
        statuses = {r.id: r.status for r in s.list_runs()}
    assert statuses == {
        "alive": RunStatus.RUNNING,
        "dead": RunStatus.INTERRUPTED,
        "reused": RunStatus.INTERRUPTED,  # this pid's process started after the run was created
        "elsewhere": RunStatus.RUNNING,  # another host's processes cannot be checked
        "finished": RunStatus.OK,
    }


# Concurrent writers


def _write_cases(path: str, worker: int, start: Any) -> None:
    start.wait()  # all open the new file at once
    with Store.open(path) as s:
        run_id = f"worker-{worker}"
        s.begin_run(run_info(run_id, worker))
        for i in range(20):
            samples = tuple(worker * 1000.0 + i + j / 100 for j in range(50))
            s.add_case(run_id, timed_case(i, samples))
        s.finish_run(run_id, RunStatus.OK, ts(30))


def test_four_processes_write_one_store_at_once(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    workers = [ctx.Process(target=_write_cases, args=(str(path), w, start)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=180)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    with Store.open(path) as s:
        assert sorted(r.id for r in s.list_runs()) == [f"worker-{w}" for w in range(4)]
        for w in range(4):
            cases = s.load_run(f"worker-{w}").cases
            assert [c.params["i"] for c in cases] == list(range(20))
            assert all(c.measures["time"].samples[0] == w * 1000.0 + i for i, c in enumerate(cases))
            assert all(len(c.measures["time"].samples) == 50 for c in cases)
