"""What :meth:`calibrax.storage.Store.open` does to a file before handing it out: the checks a
file passes before calibrax writes to it (SQLite, whole, calibrax's own, of a schema version this
code reads), the integrity check, the backup copy taken before a migration, and the migration
itself (in place, or in a copy in memory for a read-only store).

Every check reads only: a file that is not calibrax's is refused and left byte-identical.
"""

from __future__ import annotations

import functools
import sqlite3
import struct
from pathlib import Path

from sqlite_utils import Database

from calibrax.core.errors import StoreError
from calibrax.storage._schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, _stamp_application_id

__all__ = [
    "backup_copy",
    "check_file",
    "check_integrity",
    "migrate",
    "migrated_copy",
    "read_version",
]

SQLITE_MAGIC = b"SQLite format 3\x00"


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
    """Return the schema version of an open store; 0 for an SQLite file with nothing in it.

    Reads only; never writes to the file. A file is a calibrax store when its header carries
    :data:`APPLICATION_ID`, or, for stores written before the stamp, when it has no
    ``user_version`` and exactly the tables of an older calibrax schema (no views, triggers or
    tables of its own).

    Raises:
        StoreError: the file holds anything that is not calibrax's, or its schema is newer
            than this version of calibrax knows.

    Example:
        >>> read_version(Database(memory=True), Path(":memory:"))
        0
    """
    app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    user_version = int(db.execute("PRAGMA user_version").fetchone()[0])
    entries = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    tables = {str(name) for kind, name in entries if kind == "table"}
    if app_id not in (0, APPLICATION_ID) or user_version != 0:
        raise StoreError(_foreign_message(path, f"application_id {app_id} and user_version {user_version}"))
    if not entries:
        return 0
    others = sorted(f"{kind} {name}" for kind, name in entries if kind not in ("table", "index"))
    if app_id == 0 and (others or not _V1_TABLES <= tables or not tables <= _legacy_tables()):
        listed = ", ".join(others) if others else "tables " + ", ".join(sorted(tables))
        raise StoreError(_foreign_message(path, f"{listed} and no calibrax application_id"))
    version = _meta_version(db, path, tables)
    if app_id == 0 and version >= _STAMPED_VERSION:
        raise StoreError(_foreign_message(path, f"schema_version {version} but no calibrax application_id"))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The store {str(path)!r} has schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this calibrax understands; it was written by a newer calibrax. "
            "Upgrade calibrax (pip install -U calibrax) to read it."
        )
    return version


def _meta_version(db: Database, path: Path, tables: set[str]) -> int:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table, or one of another shape
        row = None
    if row is None or not str(row[0]).isdigit():
        raise StoreError(_foreign_message(path, f"tables {', '.join(sorted(tables))} and no calibrax schema_version"))
    return int(row[0])


_V1_TABLES = {"meta", "hardware", "runs", "cases", "measures", "samples", "baselines", "verdicts"}
_STAMPED_VERSION = MIGRATIONS.index(_stamp_application_id) + 1


@functools.cache
def _legacy_tables() -> frozenset[str]:
    """Every table a calibrax store had before the application_id stamp."""
    db = Database(memory=True)
    for step in MIGRATIONS[: _STAMPED_VERSION - 1]:
        step(db)
    return frozenset(db.table_names()) - {"sqlite_sequence"}


def check_integrity(db: Database, path: Path) -> None:
    """Run SQLite's ``PRAGMA quick_check``; reads only.

    Raises:
        StoreError: the file is damaged (the message quotes SQLite's first finding).

    Example:
        >>> check_integrity(Database(memory=True), Path(":memory:"))
    """
    rows = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        lines = [line for row in rows for line in row.splitlines() if line and not line.startswith("***")]
        raise StoreError(
            f"The store {str(path)!r} is damaged (SQLite's quick_check: {(lines or rows)[0]}); calibrax writes "
            "nothing to it and measures nothing. Restore it from a backup (a <name>.v<N>.bak beside "
            "it, if calibrax migrated it) or choose another store.path / --db."
        )


def backup_copy(path: Path, version: int) -> Path:
    """Copy the store beside itself as ``<name>.v<version>.bak`` (the next free name), through
    SQLite's backup API on a connection of its own, so the copy is one consistent snapshot even
    while the caller holds the write lock of a WAL store.

    Example:
        backup_copy(Path("calibrax.db"), 5)  # Path('calibrax.db.v5.bak')
    """
    target = path.with_name(f"{path.name}.v{version}.bak")
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.v{version}.{n}.bak")
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    return target


def migrated_copy(db: Database, path: Path) -> Database:
    """An in-memory copy of an older store, migrated to :data:`SCHEMA_VERSION`, for reading it
    without writing the file (a store is migrated in place only by a command that writes).

    Example:
        >>> migrated_copy(Database(memory=True), Path(":memory:")).table_names()[:2]
        ['meta', 'hardware']
    """
    copy = Database(memory=True)
    db.conn.backup(copy.conn)
    migrate(copy, path)
    return copy


def migrate(db: Database, path: Path) -> int:
    """Bring the store up to :data:`SCHEMA_VERSION`, inside the caller's transaction.

    Returns:
        The version the store had before migrating.

    Example:
        >>> db = Database(memory=True)
        >>> migrate(db, Path(":memory:")) == 0, read_version(db, Path(":memory:")) == SCHEMA_VERSION
        (True, True)
    """
    before = read_version(db, path)
    for version, step in enumerate(MIGRATIONS[before:], start=before + 1):
        step(db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    return before


def _foreign_message(path: Path, found: str) -> str:
    return (
        f"The file {str(path)!r} is an SQLite database but not a calibrax store (it has {found}); "
        "calibrax leaves it untouched. Choose another store.path / --db."
    )
