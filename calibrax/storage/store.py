"""The SQLite store: runs, hardware, cases, measures, samples, baselines and verdicts.

One :class:`Store` wraps one SQLite file through sqlite-utils. Every write is one
``BEGIN IMMEDIATE`` transaction (one per case), so a killed process loses at most the case it
was measuring, and several processes can write one store at once (WAL mode, busy timeout).
A file that is not a calibrax store is refused before anything is written to it.

This module opens and closes the store and holds its transactions; what the store does is
composed from mixins, one file per concern: runs (``_runs``), baselines and verdicts
(``_baselines``), checks and artifacts (``_extras``), annotations, history series, the alert
outbox and interleaved gates.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from calibrax.core import RunStatus, StoreError
from calibrax.storage import _opening, _schema, _sqlite
from calibrax.storage._annotations import AnnotationsMixin
from calibrax.storage._baselines import Baseline, BaselinesMixin
from calibrax.storage._extras import ChecksMixin
from calibrax.storage._interleaved import InterleavedMixin
from calibrax.storage._outbox import OutboxMixin
from calibrax.storage._runs import RunsMixin
from calibrax.storage._series import SeriesMixin

__all__ = ["Baseline", "Store"]


class Store(RunsMixin, BaselinesMixin, ChecksMixin, AnnotationsMixin, SeriesMixin, OutboxMixin, InterleavedMixin):
    """A calibrax store: one SQLite file holding runs, their cases, verdicts, alerts and validations.

    Open it with :meth:`Store.open`; use it as a context manager to close it.

    Example:
        >>> import tempfile
        >>> from calibrax.core import RunInfo, RunStatus
        >>> with Store.open(tempfile.mkdtemp() + "/calibrax.db") as store:
        ...     store.begin_run(RunInfo("r1", "2025-01-01T00:00:00+00:00", RunStatus.RUNNING))
        ...     store.get_run("latest").id
        'r1'
    """

    def __init__(self, db: Database, path: Path, *, read_only: bool = False) -> None:
        """Wrap a database that :meth:`open` has validated and migrated."""
        self._db = db
        self._path = path
        self._read_only = read_only
        self._dead: frozenset[str] = frozenset()  # runs read as interrupted (read-only stores)

    @property
    def read_only(self) -> bool:
        """True when the store was opened with ``read_only=True``: every write is refused."""
        return self._read_only

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        create: bool = True,
        read_only: bool = False,
    ) -> Store:
        """Open the store at ``path``, creating it when missing.

        The file is validated before anything is written to it: another program's SQLite
        file is refused and left byte-identical. Opened for writing, the store must pass
        SQLite's ``quick_check`` first; an older schema is then migrated after a backup copy
        (``<name>.v<N>.bak``) is taken, and runs left ``running`` by a dead process on this
        host are marked ``interrupted``. Opened ``read_only``, nothing is ever written (SQLite's
        ``mode=ro``): an older schema is migrated in a copy in memory, and dead runs only read
        as ``interrupted``; read-only files and folders can be read.

        Args:
            path: the SQLite file (``calibrax.db``).
            busy_timeout: seconds to wait for another process's write lock.
            create: create a missing or empty file; when false such a file is an error.
            read_only: open for reading only (implies ``create=False``).

        Raises:
            StoreError: the file is missing (with ``create=False``), is not SQLite, is
                truncated or damaged, is another program's database, or has a newer schema.

        Example:
            >>> import tempfile
            >>> Store.open(tempfile.mkdtemp() + "/calibrax.db").list_runs()
            []
        """
        p = Path(path).expanduser().absolute()
        _opening.check_file(p, create=create and not read_only)
        with _sqlite.sqlite_errors(p, "Opening"):
            db = _sqlite.connect_read_only(p, busy_timeout) if read_only else _sqlite.connect(p, busy_timeout)
        store = cls(db, p, read_only=read_only)
        try:
            with _sqlite.sqlite_errors(p, "Opening"):
                # Refuses foreign and newer files before anything is written.
                version = _opening.read_version(db, p)
                if read_only:
                    if version < _schema.SCHEMA_VERSION:
                        store._db = _opening.migrated_copy(db, p)
                        db.close()
                    store._dead = frozenset(store._dead_runs())
                    return store
                if version > 0:
                    _opening.check_integrity(db, p)
                _sqlite.enable_wal(db, busy_timeout)
                if version < _schema.SCHEMA_VERSION:
                    with store._write():
                        store._migrate()
            store._mark_interrupted()
        except BaseException:
            store._db.close()
            raise
        return store

    @property
    def path(self) -> Path:
        """The absolute path of the store file."""
        return self._path

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Internals

    @contextlib.contextmanager
    def _write(self) -> Iterator[Database]:
        """One write transaction; ``BEGIN IMMEDIATE`` takes the write lock up front."""
        if self._read_only:
            raise StoreError(
                f"The store {str(self._path)!r} was opened read-only; a command that writes "
                "(calibrax-run, baseline set, check, monitor) opens it for writing."
            )
        with _sqlite.sqlite_errors(self._path, "Writing"), _sqlite.transaction(self._db, "IMMEDIATE") as db:
            yield db

    @contextlib.contextmanager
    def _read(self) -> Iterator[Database]:
        """One read transaction, so that a read sees a single snapshot."""
        with _sqlite.sqlite_errors(self._path, "Reading"), _sqlite.transaction(self._db, "DEFERRED") as db:
            yield db

    def _migrate(self) -> None:
        """Under the write lock: back the file up, then migrate it (unless another process
        did while this one waited for the lock)."""
        version = _opening.read_version(self._db, self._path)
        if 0 < version < _schema.SCHEMA_VERSION:
            _opening.backup_copy(self._path, version)
        _opening.migrate(self._db, self._path)

    def _dead_runs(self) -> list[str]:
        """Runs of this host left ``running`` by a process that has died."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, pid, created_at FROM runs WHERE status = ? AND hostname = ?",
                [RunStatus.RUNNING.value, socket.gethostname()],
            ).fetchall()
        return [run_id for run_id, pid, created_at in rows if not _sqlite.process_alive(pid, created_at)]

    def _mark_interrupted(self) -> None:
        """Mark runs of this host whose recorded process has died as ``interrupted``."""
        dead = self._dead_runs()
        if not dead:
            return
        ids = ", ".join("?" * len(dead))
        with self._write() as db:
            db.execute(
                f"UPDATE runs SET status = ? WHERE status = ? AND id IN ({ids})",
                [RunStatus.INTERRUPTED.value, RunStatus.RUNNING.value, *dead],
            )
