"""SQLite plumbing of the store: connections, WAL, transactions, errors and plain inserts."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from calibrax.core import StoreError

__all__ = [
    "connect",
    "connect_read_only",
    "enable_wal",
    "insert",
    "process_alive",
    "sqlite_errors",
    "transaction",
]

# psutil derives process start times from the boot time, which /proc gives to the second.
_START_TIME_SLACK_S = 2.0


@functools.lru_cache(maxsize=64)
def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def insert(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """Insert one row with a plain parameterised INSERT (the hot path of ``add_case``)."""
    cursor = db.execute(insert_sql(table, tuple(row)), list(row.values()))
    return int(cursor.lastrowid or 0)


def connect(path: Path, busy_timeout: float) -> Database:
    conn = sqlite3.connect(str(path), timeout=busy_timeout)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # In WAL mode, NORMAL syncs at checkpoints instead of every commit: a crash of the process
    # or the OS cannot corrupt the store or lose a committed case; only a power cut may lose
    # the last few commits. It makes one transaction per case cheap enough for big suites.
    conn.execute("PRAGMA synchronous = NORMAL")
    return Database(conn, execute_plugins=False)


def connect_read_only(path: Path, busy_timeout: float) -> Database:
    """Open ``path`` for reading only: SQLite's ``mode=ro``, so nothing can write the file.

    A WAL store needs its ``-shm`` file even to read; in a folder calibrax cannot write, a
    store with no ``-wal`` log (every commit checkpointed into the file) is read as immutable
    instead. A store whose log holds commits can only be read where its ``-shm`` can be made.
    """
    uri = f"{path.as_uri()}?mode=ro"
    try:
        return _open_uri(uri, busy_timeout)
    except sqlite3.OperationalError:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise
    return _open_uri(f"{uri}&immutable=1", busy_timeout)


def _open_uri(uri: str, busy_timeout: float) -> Database:
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file and its WAL index
    except BaseException:
        conn.close()
        raise
    return Database(conn, execute_plugins=False)


def enable_wal(db: Database, busy_timeout: float) -> None:
    """Switch to WAL mode, retrying while other connections hold the file.

    Changing the journal mode does not wait on the busy handler, and processes that open a
    new store together all try it at once.
    """
    deadline = time.monotonic() + busy_timeout
    while db.journal_mode != "wal":
        try:
            db.enable_wal()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextlib.contextmanager
def transaction(db: Database, mode: str) -> Iterator[Database]:
    """Run a block in one transaction; sqlite-utils nests its own writes as savepoints."""
    db.execute(f"BEGIN {mode}")
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise


@contextlib.contextmanager
def sqlite_errors(path: Path, doing: str) -> Iterator[None]:
    """Turn SQLite's errors into a StoreError that names the file and what to do."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(
            f"{doing} the store {str(path)!r} failed: {exc}. If another process holds it "
            "locked, retry or raise busy_timeout; if it is damaged, restore it from a backup "
            "or choose another store.path / --db."
        ) from exc


def process_alive(pid: int | None, created_at: str) -> bool:
    """True unless the process that began a run has certainly stopped."""
    if pid is None:
        return True
    import psutil  # only for a store with a running run: psutil adds 30 ms to every store command

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = proc.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # exists, but is not ours to inspect
        return True
    # A process that started after the run was created reuses the pid of a dead one.
    return bool(started <= datetime.fromisoformat(created_at).timestamp() + _START_TIME_SLACK_S)
