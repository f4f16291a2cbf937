"""Tests of a store that touches only its own files: the application_id stamp, other programs'
SQLite files left byte-identical, read-only opens that never write (read-only files and
folders included), the integrity check before writing and the backup before a migration."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from calibrax.core import CaseResult, CaseStatus, RunInfo, RunStatus, StoreError
from calibrax.storage import SCHEMA_VERSION, Store
from calibrax.storage._schema import APPLICATION_ID, MIGRATIONS, _stamp_application_id
from tests.conftest import BIN
from tests.storage.test_store_file import write_v1_fixture

NO_SUCH_PID = 2**31 - 1


def snapshot(path: Path) -> tuple[bytes, str, list[str]]:
    """The file's bytes, its journal mode (read without writing) and the files beside it."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    for extra in ("-wal", "-shm"):  # a read-only reader of a DELETE file leaves none
        assert not Path(f"{path}{extra}").exists() or mode == "wal"
    return path.read_bytes(), mode, sorted(p.name for p in path.parent.iterdir())


def make_app_db(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.commit()
    conn.close()


FOREIGN = {
    "meta-table-with-numeric-schema-version": (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '3');"
    ),
    "only-a-view": "CREATE VIEW answer AS SELECT 42 AS value;",
    "only-user-version": "PRAGMA user_version = 7;",
    "only-application-id": "PRAGMA application_id = 1234;",
    "calibrax-tables-plus-its-own": "",  # filled by the test from a real store
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
@pytest.mark.parametrize("read_only", [False, True])
def test_another_programs_file_is_refused_and_left_byte_identical(tmp_path: Path, kind: str, read_only: bool) -> None:
    path = tmp_path / "app.db"
    if kind == "calibrax-tables-plus-its-own":
        write_v1_fixture(path)  # an older calibrax schema, with no stamp yet ...
        make_app_db(path, "CREATE TABLE users (id INTEGER PRIMARY KEY);")  # ... and an app's table
    else:
        make_app_db(path, FOREIGN[kind])
    before = snapshot(path)
    with pytest.raises(StoreError, match="not a calibrax store .* calibrax leaves it untouched"):
        Store.open(path, read_only=read_only)
    assert snapshot(path) == before
    assert before[1] == "delete"  # and it was never switched to WAL


def test_calibrax_refuses_an_app_database_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    make_app_db(path, FOREIGN["meta-table-with-numeric-schema-version"])
    before = snapshot(path)
    for args in (["runs"], ["baseline", "set", "main"]):
        done = subprocess.run([str(BIN / "calibrax"), *args, "--db", str(path)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
        assert "not a calibrax store" in done.stderr
    assert snapshot(path) == before


def test_a_new_store_carries_the_application_id(tmp_path: Path) -> None:
    Store.open(tmp_path / "calibrax.db").close()
    conn = sqlite3.connect(tmp_path / "calibrax.db")
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()


def _store_with_dead_run(path: Path, *, wal: bool) -> None:
    with Store.open(path) as s:
        s.begin_run(RunInfo("dead", "2025-01-01T00:00:00+00:00", RunStatus.RUNNING))
        s.add_case("dead", CaseResult("bench", {"n": 1}, CaseStatus.OK))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET pid = ?", [NO_SUCH_PID])
    conn.commit()
    if not wal:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


def test_a_read_only_open_writes_nothing_and_reads_dead_runs_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    _store_with_dead_run(path, wal=False)
    before = snapshot(path)
    with Store.open(path, read_only=True) as s:
        assert s.get_run("dead").status is RunStatus.INTERRUPTED
        assert [r.status for r in s.list_runs()] == [RunStatus.INTERRUPTED]
        assert s.load_run("latest").run.status is RunStatus.INTERRUPTED
        with pytest.raises(StoreError, match="opened read-only; a command that writes"):
            s.set_baseline("main", "dead")
    assert snapshot(path) == before  # still DELETE, still 'running' on disk
    assert sqlite3.connect(path).execute("SELECT status FROM runs").fetchone() == ("running",)


def test_calibrax_runs_keeps_a_delete_journal_store_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    _store_with_dead_run(path, wal=False)
    before = snapshot(path)
    for args in (["runs"], ["show", "dead"], ["baseline", "list"]):
        done = subprocess.run([str(BIN / "calibrax"), *args, "--db", str(path)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    assert "interrupted" in subprocess.run([str(BIN / "calibrax"), "runs", "--db", str(path)], capture_output=True,
                                           text=True, timeout=120).stdout
    assert snapshot(path) == before


def test_a_read_only_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    _store_with_dead_run(path, wal=True)
    path.chmod(0o444)
    with Store.open(path, read_only=True) as s:
        assert s.get_run("dead").status is RunStatus.INTERRUPTED


def _can_mount_read_only() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and unshare to mount a folder read-only")
@pytest.mark.parametrize("wal", [True, False])
def test_a_store_in_a_read_only_folder_is_listed(tmp_path: Path, wal: bool) -> None:
    # chmod 0555 does not stop root (these tests run as root in CI), so the folder is made
    # read-only for real: a read-only bind mount of it in a private mount namespace.
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "calibrax.db"
    _store_with_dead_run(path, wal=wal)
    before = snapshot(path)
    script = (f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
              f"touch {folder}/probe 2>/dev/null; test ! -e {folder}/probe && "
              f"{BIN / 'calibrax'} runs --db {path}")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dead" in done.stdout and "interrupted" in done.stdout
    assert snapshot(path) == before


def test_an_older_store_is_read_without_migrating_and_migrated_with_a_backup_on_write(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    write_v1_fixture(path)
    before = path.read_bytes()
    with Store.open(path, read_only=True) as s:
        assert s.get_run("v1run").status is RunStatus.OK
        assert s.load_run("v1run").cases[0].benchmark == "matmul"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibrax.db"]
    Store.open(path).close()  # a writer migrates, after copying the file
    backup = tmp_path / "calibrax.db.v1.bak"
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    assert conn.execute("SELECT id FROM runs ORDER BY id").fetchall() == [("v1dead",), ("v1run",)]
    conn.close()
    assert sqlite3.connect(path).execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    write_v1_fixture(tmp_path / "again.db")
    Store.open(tmp_path / "again.db").close()
    assert (tmp_path / "again.db.v1.bak").exists()


def test_an_unstamped_store_of_the_last_version_before_the_stamp_opens(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    conn = sqlite3.connect(path, isolation_level=None)
    from sqlite_utils import Database

    db = Database(conn)
    stamp = MIGRATIONS.index(_stamp_application_id)
    for version, step in enumerate(MIGRATIONS[:stamp], start=1):
        step(db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    conn.close()
    with Store.open(path) as s:
        assert s.list_runs() == []
    assert (tmp_path / f"calibrax.db.v{stamp}.bak").exists()


def test_a_damaged_store_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as s:
        s.begin_run(RunInfo("r1", "2025-01-01T00:00:00+00:00", RunStatus.RUNNING))
        for n in range(300):
            s.add_case("r1", CaseResult("bench", {"n": n, "pad": "x" * 200}, CaseStatus.OK))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases_history'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start + 8 : start + 200] = b"\x00" * 192  # an index page the schema does not need to open
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is damaged .*quick_check.* measures nothing"):
        Store.open(path)
    assert path.read_bytes() == before
