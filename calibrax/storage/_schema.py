"""What a calibrax store file is: the checks a file passes before calibrax writes to it, the
table definitions, the schema version and the migrations.

The schema is versioned by the ``schema_version`` row of the ``meta`` table. ``MIGRATIONS[n]``
takes a store from version ``n`` to ``n + 1``; version 0 is an empty file. To change the
schema, append a migration and never edit an old one: stores written by older versions must
keep opening (a hand-written version-1 fixture in the tests pins that format).
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from calibrax.core.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check_file", "migrate", "read_version"]

SQLITE_MAGIC = b"SQLite format 3\x00"

_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE hardware (
    fingerprint TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    backend TEXT NOT NULL,
    device_kind TEXT NOT NULL,
    cpu_model TEXT NOT NULL
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    config TEXT NOT NULL DEFAULT '{}',
    overrides TEXT NOT NULL DEFAULT '[]',
    sweep_id TEXT,
    hardware_id TEXT REFERENCES hardware(fingerprint),
    hardware_info TEXT,
    pid INTEGER,
    hostname TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    benchmark TEXT NOT NULL,
    params TEXT NOT NULL,
    params_key TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    started_at TEXT NOT NULL DEFAULT '',
    duration REAL NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE measures (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL,
    median REAL,
    mean REAL,
    min REAL,
    max REAL,
    std REAL,
    iqr REAL,
    mad REAL,
    ci_low REAL,
    ci_high REAL,
    ci_level REAL,
    meta TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, name)
);
CREATE TABLE samples (
    case_id INTEGER NOT NULL,
    measure TEXT NOT NULL,
    "values" TEXT NOT NULL,
    PRIMARY KEY (case_id, measure),
    FOREIGN KEY (case_id, measure) REFERENCES measures(case_id, name) ON DELETE CASCADE
);
CREATE TABLE baselines (
    name TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    created_at TEXT NOT NULL
);
CREATE TABLE verdicts (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    baseline_run_id TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    params TEXT NOT NULL,
    measure TEXT NOT NULL,
    verdict TEXT NOT NULL,
    ratio REAL,
    baseline REAL,
    candidate REAL,
    margin REAL,
    message TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_run_seq ON cases(run_id, seq);
CREATE INDEX cases_history ON cases(benchmark, params_key);
CREATE INDEX runs_started_at ON runs(started_at);
CREATE INDEX runs_sweep ON runs(sweep_id);
CREATE INDEX verdicts_run ON verdicts(run_id);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
"""


def _create_v1(db: Database) -> None:
    """Version 0 -> 1: create every table and index on an empty file."""
    db.executescript(_V1)


def _v1_to_v2(db: Database) -> None:
    """Version 1 -> 2: outlier counts on measures; CI, p-values and details on verdicts."""
    db.executescript(
        """
        ALTER TABLE measures ADD COLUMN outliers_tukey INTEGER;
        ALTER TABLE measures ADD COLUMN outliers_modz INTEGER;
        ALTER TABLE verdicts ADD COLUMN ci_low REAL;
        ALTER TABLE verdicts ADD COLUMN ci_high REAL;
        ALTER TABLE verdicts ADD COLUMN p_value REAL;
        ALTER TABLE verdicts ADD COLUMN p_adjusted REAL;
        ALTER TABLE verdicts ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
        """
    )


def _v2_to_v3(db: Database) -> None:
    """Version 2 -> 3: monitoring alerts (one row per alert id) and validation checks per run."""
    db.executescript(
        """
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            rule TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            at TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '{}',
            value REAL,
            threshold REAL,
            run_id TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE TABLE validations (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            passed INTEGER NOT NULL,
            message TEXT NOT NULL,
            figures TEXT NOT NULL DEFAULT '{}',
            gate INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX alerts_at ON alerts(at);
        CREATE INDEX alerts_run ON alerts(run_id);
        """
    )


def _v3_to_v4(db: Database) -> None:
    """Version 3 -> 4: covering indexes so a case's history over 10^4 runs reads in order
    from ``runs_started_at`` without a sort or table lookups."""
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS cases_history_cover ON cases(benchmark, status, run_id, seq, params);
        CREATE INDEX IF NOT EXISTS measures_cover ON measures(case_id, name, median, ci_low, ci_high, n);
        """
    )


def _v4_to_v5(db: Database) -> None:
    """Version 4 -> 5: files written for a case (a profiler trace), with a JSON summary each."""
    db.executescript(
        """
        CREATE TABLE artifacts (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            case_seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT '',
            path TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, case_seq, name)
        );
        """
    )


def _v5_to_v6(db: Database) -> None:
    """Version 5 -> 6: what a benchmark's cases give together (complexity fits), one row per
    run and benchmark, instead of the meta of its last case (moved over here); each measure's
    usual basis and its provenance (measured, derived or modelled, and from what; rows of older
    stores read as their measure's usual basis)."""
    db.executescript(
        """
        ALTER TABLE measures ADD COLUMN basis TEXT;
        ALTER TABLE measures ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE benchmark_results (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            benchmark TEXT NOT NULL,
            complexity TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (run_id, benchmark)
        );
        """
    )
    rows = db.execute("SELECT id, run_id, benchmark, meta FROM cases WHERE meta LIKE '%\"complexity\"%'").fetchall()
    for case_id, run_id, benchmark, meta_text in rows:
        meta = json.loads(meta_text)
        fits = meta.pop("complexity", None)
        if fits is None:
            continue
        db.execute("INSERT OR REPLACE INTO benchmark_results (run_id, benchmark, complexity) VALUES (?, ?, ?)",
                   [run_id, benchmark, json.dumps(fits)])
        db.execute("UPDATE cases SET meta = ? WHERE id = ?", [json.dumps(meta), case_id])


def _alert_deliveries(db: Database) -> None:
    """Alert delivery outbox: one row per alert and sink with its delivery state (``pending``,
    ``sending`` under a claim until ``lease_until``, or ``delivered``), attempts, when the next
    attempt is due and the last error. Alerts stored before it count as delivered."""
    db.executescript(
        """
        CREATE TABLE alert_deliveries (
            alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            sink TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL DEFAULT 0,
            claim TEXT,
            lease_until REAL,
            last_error TEXT,
            delivered_at TEXT,
            PRIMARY KEY (alert_id, sink)
        );
        CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_at);
        """
    )


MIGRATIONS: list[Callable[[Database], None]] = [_create_v1, _v1_to_v2, _v2_to_v3, _v3_to_v4, _v4_to_v5, _v5_to_v6,
                                                _alert_deliveries]
"""``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes and the newest one it can read."""


def check_file(path: Path, *, create: bool) -> None:
    """Refuse a path that is not, and cannot become, a calibrax store; reads only.

    A missing or empty file is fine when ``create`` is true (its folder is created).

    Raises:
        StoreError: a directory, a missing or empty file with ``create=False``, a file that
            is not SQLite, or one shorter than its header declares.

    Example:
        >>> import tempfile
        >>> check_file(Path(tempfile.mkdtemp()) / "calibrax.db", create=True)
    """
    try:
        if path.is_dir():
            raise StoreError(
                f"The store path {str(path)!r} is a directory; give a file path such as "
                f"{str(path / 'calibrax.db')!r} as store.path / --db."
            )
        size = path.stat().st_size if path.exists() else 0
        if size == 0:
            if not create:
                raise StoreError(
                    f"There is no calibrax store at {str(path)!r} (the file is missing or empty); "
                    "run calibrax-run to create one, or point store.path / --db at an existing "
                    "store."
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            return
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise StoreError(f"The store {str(path)!r} cannot be read or created: {exc}.") from exc
    if header[:16] != SQLITE_MAGIC:
        raise StoreError(
            f"The file {str(path)!r} is not a calibrax store (not an SQLite database: it starts "
            f"with {header[:16]!r}); calibrax leaves it untouched. Choose another "
            "store.path / --db."
        )
    _check_length(path, header, size)


def _check_length(path: Path, header: bytes, size: int) -> None:
    """Refuse a file shorter than the pages its header declares; reads only."""
    try:
        wal_size = Path(f"{path}-wal").stat().st_size
    except FileNotFoundError:
        wal_size = 0
    if wal_size > 0:
        return  # in WAL mode, committed pages may still be in the log only
    if len(header) < 100:
        expected = 100  # shorter than the database header itself
    elif header[24:28] != header[92:96]:
        return  # written by an SQLite too old to keep the in-header page count valid
    else:
        (page_size,) = struct.unpack(">H", header[16:18])
        (page_count,) = struct.unpack(">I", header[28:32])
        expected = (65536 if page_size == 1 else page_size) * page_count
    if size < expected:
        raise StoreError(
            f"The store {str(path)!r} is truncated: it has {size} bytes but its SQLite header "
            f"declares {expected}. calibrax leaves it untouched; restore it from a backup or "
            "choose another store.path / --db."
        )


def read_version(db: Database, path: Path) -> int:
    """Return the schema version of an open store; 0 for an SQLite file with no tables.

    Reads only; never writes to the file.

    Raises:
        StoreError: the file holds tables but is not a calibrax store, or its schema is
            newer than this version of calibrax knows.

    Example:
        >>> read_version(Database(memory=True), Path(":memory:"))
        0
    """
    tables = set(db.table_names())
    if not tables:
        return 0
    if "meta" not in tables:
        raise StoreError(_foreign_message(path, tables))
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # a foreign table that happens to be called meta
        row = None
    if row is None or not str(row[0]).isdigit():
        raise StoreError(_foreign_message(path, tables))
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The store {str(path)!r} has schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this calibrax understands; it was written by a newer calibrax. "
            "Upgrade calibrax (pip install -U calibrax) to read it."
        )
    return version


def migrate(db: Database, path: Path) -> int:
    """Bring the store up to :data:`SCHEMA_VERSION`, inside the caller's transaction.

    Returns:
        The version the store had before migrating.

    Example:
        >>> db = Database(memory=True)
        >>> migrate(db, Path(":memory:")), read_version(db, Path(":memory:")) == SCHEMA_VERSION
        (0, True)
    """
    before = read_version(db, path)
    for version, step in enumerate(MIGRATIONS[before:], start=before + 1):
        step(db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    return before


def _foreign_message(path: Path, tables: set[str]) -> str:
    listed = ", ".join(sorted(tables))
    return (
        f"The file {str(path)!r} is an SQLite database but not a calibrax store (it has tables "
        f"{listed} and no calibrax schema_version); calibrax leaves it untouched. Choose another "
        "store.path / --db."
    )
