"""The SQLite store: runs, hardware, cases, measures, samples, baselines and verdicts.

One :class:`Store` wraps one SQLite file through sqlite-utils. Every write is one
``BEGIN IMMEDIATE`` transaction (one per case), so a killed process loses at most the case it
was measuring, and several processes can write one store at once (WAL mode, busy timeout).
A file that is not a calibrax store is refused before anything is written to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlite_utils import Database

from calibrax.core import (
    CalibraxError,
    CaseResult,
    HardwareInfo,
    MeasureResult,
    NotFoundError,
    RunInfo,
    RunRecord,
    RunStatus,
    StoreError,
    Verdict,
    unknown_name_message,
)
from calibrax.storage import _rows, _schema, _sqlite
from calibrax.storage._annotations import ACCEPTED_SINCE_SQL, EXCLUDED_SQL, AnnotationsMixin
from calibrax.storage._extras import ChecksMixin, case_artifacts, insert_artifact
from calibrax.storage._interleaved import InterleavedMixin
from calibrax.storage._outbox import OutboxMixin
from calibrax.storage._series import SeriesMixin

__all__ = ["Baseline", "Store"]

_RECENT = 5  # run ids listed when a reference matches nothing

_LATEST_SQL = "SELECT id FROM runs WHERE interleaved_of IS NULL ORDER BY started_at DESC, rowid DESC LIMIT ?"
"""The newest runs measured by calibrax-run: a linked interleaved baseline run is never ``latest``."""
_CASES_SQL = "SELECT * FROM cases WHERE run_id = ? ORDER BY seq"
_MEASURES_SQL = """
SELECT m.*, s."values" AS sample_values FROM measures m
JOIN cases c ON c.id = m.case_id
LEFT JOIN samples s ON s.case_id = m.case_id AND s.measure = m.name
WHERE c.run_id = ? ORDER BY m.case_id, m.rowid
"""
_HISTORY_SQL = """
SELECT r.id AS run_id, r.started_at, r.git_commit, c.params, m.median, m.ci_low, m.ci_high, m.n
FROM runs r
JOIN cases c ON c.run_id = r.id
JOIN measures m ON m.case_id = c.id AND m.name = ?
WHERE c.benchmark = ? AND c.status = 'ok' AND r.interleaved_of IS NULL AND NOT {excluded}
ORDER BY r.started_at, r.rowid, c.seq
""".replace("{excluded}", EXCLUDED_SQL)
_HISTORY_COLUMNS = ("run_id", "started_at", "git_commit", "params", "median", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class Baseline:
    """A named run that later runs are checked against.

    Attributes:
        name: the baseline's name (``main``, ``v1.2``).
        run_id: the full id of the run it points at.
        created_at: ISO-8601 UTC time the name was last set.

    Example:
        >>> Baseline("main", "run-1", "2025-01-01T00:00:00+00:00").run_id
        'run-1'
    """

    name: str
    run_id: str
    created_at: str


class Store(ChecksMixin, AnnotationsMixin, SeriesMixin, OutboxMixin, InterleavedMixin):
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
        _schema.check_file(p, create=create and not read_only)
        with _sqlite.sqlite_errors(p, "Opening"):
            db = _sqlite.connect_read_only(p, busy_timeout) if read_only else _sqlite.connect(p, busy_timeout)
        store = cls(db, p, read_only=read_only)
        try:
            with _sqlite.sqlite_errors(p, "Opening"):
                # Refuses foreign and newer files before anything is written.
                version = _schema.read_version(db, p)
                if read_only:
                    if version < _schema.SCHEMA_VERSION:
                        store._db = _schema.migrated_copy(db, p)
                        db.close()
                    store._dead = frozenset(store._dead_runs())
                    return store
                if version > 0:
                    _schema.check_integrity(db, p)
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

    # Writing a run

    def begin_run(self, run: RunInfo, *, interleaved_of: str | None = None) -> None:
        """Store a new run with status ``running``, owned by this process.

        The pid and hostname of this process are recorded so that a later open can tell a
        run whose process died (it then reads ``interrupted``). ``run.status`` and
        ``run.finished_at`` are ignored: :meth:`finish_run` sets them. ``interleaved_of`` names
        the candidate run whose interleaved gate this run holds the baseline trial values of
        (see :meth:`interleaved_links`); such a run is never ``latest`` nor part of a history.

        Raises:
            StoreError: a run with this id is already stored, or ``interleaved_of`` names a run
                that is itself a linked baseline run.
            NotFoundError: ``interleaved_of`` names no run.

        Example:
            store.begin_run(RunInfo("r2", "2025-01-02T00:00:00+00:00", RunStatus.RUNNING))
        """
        row = _rows.run_row(run)
        row.update(
            status=RunStatus.RUNNING.value,
            finished_at=None,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            created_at=datetime.now(UTC).isoformat(),
        )
        if interleaved_of is not None:
            row["interleaved_of"] = interleaved_of
        with self._write() as db:
            if interleaved_of is not None:
                self._require_candidate(db, interleaved_of)
            if db.execute("SELECT 1 FROM runs WHERE id = ?", [run.id]).fetchone():
                raise StoreError(
                    f"A run with id {run.id!r} is already stored in {str(self._path)!r}; "
                    "every run needs a new id."
                )
            if run.hardware is not None:
                db.table("hardware").upsert(_rows.hardware_row(run.hardware), pk="fingerprint")
            db.table("runs").insert(row)

    def set_run_hardware(self, run_id: str, hardware: HardwareInfo) -> None:
        """Record what the run was measured on; the hardware table is keyed by fingerprint.

        Raises:
            NotFoundError: no run has this id.

        Example:
            store.set_run_hardware("r2", hardware_info)
        """
        with self._write() as db:
            self._require_run(db, run_id)
            db.table("hardware").upsert(_rows.hardware_row(hardware), pk="fingerprint")
            db.execute(
                "UPDATE runs SET hardware_id = ?, hardware_info = ? WHERE id = ?",
                [hardware.fingerprint, _rows.dumps(asdict(hardware)), run_id],
            )

    def add_case(self, run_id: str, case: CaseResult) -> None:
        """Store one finished case with its measures and samples, in one transaction.

        Cases read back in the order they were added.

        Raises:
            NotFoundError: no run has this id.
            StoreError: a key of ``case.measures`` differs from its measure's name.

        Example:
            store.add_case("r2", CaseResult("matmul", {"n": 64}, CaseStatus.OK))
        """
        for key, result in case.measures.items():
            if key != result.measure.name:
                raise StoreError(
                    f"Case {case.key}: measure key {key!r} differs from the name of its "
                    f"Measure, {result.measure.name!r}; key case.measures by measure name."
                )
        # checked before the transaction, so a malformed entry writes nothing
        artifacts = case_artifacts(run_id, 0, case.artifacts, datetime.now(UTC).isoformat(timespec="seconds"))
        with self._write() as db:
            self._require_run(db, run_id)
            seq = db.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM cases WHERE run_id = ?", [run_id]
            ).fetchone()[0]
            case_id = _sqlite.insert(db, "cases", _rows.case_row(run_id, seq, case))
            for result in case.measures.values():
                _sqlite.insert(db, "measures", _rows.measure_row(case_id, result))
                _sqlite.insert(db, "samples", _rows.samples_row(case_id, result))
            for artifact in artifacts:
                insert_artifact(db, replace(artifact, case_seq=seq))

    def finish_run(self, run_id: str, status: RunStatus, finished_at: str) -> None:
        """Set a run's final status and finish time.

        Raises:
            NotFoundError: no run has this id.

        Example:
            store.finish_run("r2", RunStatus.OK, "2025-01-02T00:01:00+00:00")
        """
        with self._write() as db:
            self._require_run(db, run_id)
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                [RunStatus(status).value, finished_at, run_id],
            )

    # Reading runs

    def resolve_run_id(self, ref: str) -> str:
        """Turn ``latest``, a full run id or a unique id prefix into a full run id.

        Raises:
            NotFoundError: nothing matches, or a prefix matches several runs; the message
                lists the most recent run ids.

        Example:
            store.resolve_run_id("latest")  # 'r2'
        """
        with self._read() as db:
            return self._resolve(db, ref)

    def get_run(self, ref: str) -> RunInfo:
        """Return the metadata of the run that ``ref`` names (see :meth:`resolve_run_id`).

        Example:
            store.get_run("r2").status  # <RunStatus.OK: 'ok'>
        """
        with self._read() as db:
            return self._fetch_run(db, self._resolve(db, ref))

    def load_run(self, ref: str) -> RunRecord:
        """Return a run and all its cases in measured order, with samples and summaries.

        The records equal those written, with the run's benchmark-level results. ``verdicts``
        is left empty: see :meth:`load_verdicts`.

        Example:
            [c.benchmark for c in store.load_run("r2").cases]  # ['matmul']
        """
        with self._read() as db:
            run_id = self._resolve(db, ref)
            run = self._fetch_run(db, run_id)
            measures: dict[int, dict[str, MeasureResult]] = defaultdict(dict)
            for row in db.query(_MEASURES_SQL, [run_id]):
                measures[row["case_id"]][row["name"]] = _rows.measure(row)
            rows = db.query(_CASES_SQL, [run_id])
            cases = tuple(_rows.case(row, measures[row["id"]]) for row in rows)
        return RunRecord(run=run, cases=cases, benchmarks=self.load_benchmark_results(run_id))

    def list_runs(self, *, limit: int | None = None, sweep_id: str | None = None) -> list[RunInfo]:
        """Return runs newest first, optionally only the ``limit`` newest or one sweep's.

        Raises:
            CalibraxError: ``limit`` is negative.

        Example:
            [r.id for r in store.list_runs(limit=1)]  # ['r2']
        """
        if limit is not None and limit < 0:
            raise CalibraxError(f"limit must be None or a count of runs >= 0, got {limit!r}.")
        where = "" if sweep_id is None else "WHERE sweep_id = ?"
        args: list[Any] = [] if sweep_id is None else [sweep_id]
        args.append(-1 if limit is None else limit)
        sql = f"SELECT * FROM runs {where} ORDER BY started_at DESC, rowid DESC LIMIT ?"
        with self._read() as db:
            return [self._run_info(row) for row in db.query(sql, args)]

    def history(
        self, benchmark: str, measure: str = "time", params: Mapping[str, Any] | None = None, *,
        since_accept: bool = False,
    ) -> list[dict[str, Any]]:
        """Return one row per ok case of ``benchmark`` over all runs, oldest run first.

        Excluded runs and cases (:meth:`exclude`) are left out, and so are the linked baseline runs
        of interleaved gates (their samples are trial values, see :meth:`interleaved_links`).

        Args:
            benchmark: the benchmark name.
            measure: the measure whose summary is returned.
            params: keep only cases whose params include every one of these items.
            since_accept: start at the newest accepted run (:meth:`accept`), as a history-based
                baseline does.

        Returns:
            Dicts with ``run_id``, ``started_at``, ``git_commit``, ``params`` (a dict),
            ``median``, ``ci_low``, ``ci_high`` and ``n``.

        Example:
            [row["run_id"] for row in store.history("matmul", params={"n": 64})]  # ['r2']
        """
        wanted = dict(params or {})
        sql = _HISTORY_SQL
        args: list[Any] = [measure, benchmark]
        if since_accept:
            sql = sql.replace("ORDER BY", f"AND r.started_at >= {ACCEPTED_SINCE_SQL}\nORDER BY")
        for key, value in wanted.items():
            if isinstance(value, (bool, int, float, str)) and key.isidentifier():
                # narrow in SQL (cheap); the exact comparison below stays authoritative
                sql = sql.replace("ORDER BY", f"AND json_extract(c.params, '$.{key}') = ?\nORDER BY")
                args.append(int(value) if isinstance(value, bool) else value)
        rows = []
        decoded: dict[str, tuple[dict[str, Any], bool]] = {}  # a case's params repeat in every run
        with self._read() as db:
            for row in db.execute(sql, args).fetchall():
                text = row[3]
                if text not in decoded:
                    p = json.loads(text)
                    decoded[text] = (p, all(k in p and p[k] == v for k, v in wanted.items()))
                p, keep = decoded[text]
                if keep:
                    rows.append(dict(zip(_HISTORY_COLUMNS, (*row[:3], dict(p), *row[4:]), strict=True)))
        return rows

    # Baselines

    def set_baseline(self, name: str, run_ref: str = "latest") -> Baseline:
        """Point the baseline ``name`` at a run, creating or moving it.

        Raises:
            CalibraxError: ``name`` is empty.
            NotFoundError: ``run_ref`` names no run.
            StoreError: ``run_ref`` names the linked baseline run of an interleaved gate.

        Example:
            store.set_baseline("main", "r2").run_id  # 'r2'
        """
        if not name.strip():
            raise CalibraxError(
                f"A baseline name must not be empty, got {name!r}; name it e.g. 'main'."
            )
        with self._write() as db:
            created_at = datetime.now(UTC).isoformat(timespec="seconds")
            baseline = Baseline(name, self._resolve(db, run_ref), created_at)
            self._refuse_linked(db, baseline.run_id, f"the baseline {name!r}")
            db.table("baselines").upsert(asdict(baseline), pk="name")
        return baseline

    def list_baselines(self) -> list[Baseline]:
        """Return every baseline, sorted by name.

        Example:
            [b.name for b in store.list_baselines()]  # ['main']
        """
        with self._read() as db:
            return [Baseline(**row) for row in db.query("SELECT * FROM baselines ORDER BY name")]

    def get_baseline(self, name: str) -> Baseline:
        """Return the baseline called ``name``.

        Raises:
            NotFoundError: no such baseline; the message lists close matches and all names.

        Example:
            store.get_baseline("main").run_id  # 'r2'
        """
        with self._read() as db:
            rows = list(db.query("SELECT * FROM baselines WHERE name = ?", [name]))
        if not rows:
            raise self._unknown_baseline(name)
        return Baseline(**rows[0])

    def remove_baseline(self, name: str) -> None:
        """Delete the baseline called ``name``; its run stays.

        Raises:
            NotFoundError: no such baseline.

        Example:
            store.remove_baseline("main")
        """
        with self._write() as db:
            deleted = db.execute("DELETE FROM baselines WHERE name = ?", [name]).rowcount
        if not deleted:
            raise self._unknown_baseline(name)

    # Verdicts

    def add_verdicts(self, run_id: str, baseline_run_id: str, verdicts: Sequence[Verdict]) -> None:
        """Store the verdicts of checking ``run_id`` against ``baseline_run_id``.

        A run keeps one set of verdicts: these replace any stored earlier for the run, so
        pass every verdict of a check in one call.

        Raises:
            NotFoundError: no run has id ``run_id``.

        Example:
            store.add_verdicts("r2", "r1", verdicts)
        """
        rows = [_rows.verdict_row(run_id, baseline_run_id, v) for v in verdicts]
        with self._write() as db:
            self._require_run(db, run_id)
            db.execute("DELETE FROM verdicts WHERE run_id = ?", [run_id])
            db.table("verdicts").insert_all(rows)

    def load_verdicts(self, run_id: str) -> list[Verdict]:
        """Return the verdicts stored for a run, in the order they were added.

        Example:
            [v.kind.value for v in store.load_verdicts("r2")]  # ['pass']
        """
        with self._read() as db:
            sql = "SELECT * FROM verdicts WHERE run_id = ? ORDER BY rowid"
            rows = list(db.query(sql, [run_id]))
        return [_rows.verdict(row) for row in rows]

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
        version = _schema.read_version(self._db, self._path)
        if 0 < version < _schema.SCHEMA_VERSION:
            _schema.backup_copy(self._path, version)
        _schema.migrate(self._db, self._path)

    def _dead_runs(self) -> list[str]:
        """Runs of this host left ``running`` by a process that has died."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, pid, created_at FROM runs WHERE status = ? AND hostname = ?",
                [RunStatus.RUNNING.value, socket.gethostname()],
            ).fetchall()
        return [run_id for run_id, pid, created_at in rows if not _sqlite.process_alive(pid, created_at)]

    def _run_info(self, row: Mapping[str, Any]) -> RunInfo:
        """A runs row as RunInfo; a dead run of a read-only store reads ``interrupted``."""
        info = _rows.run_info(row)
        if info.id in self._dead and info.status is RunStatus.RUNNING:
            return replace(info, status=RunStatus.INTERRUPTED)
        return info

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

    def _resolve(self, db: Database, ref: str) -> str:
        if ref == "latest":
            row = db.execute(_LATEST_SQL, [1]).fetchone()
            if row is None:
                raise NotFoundError(
                    f"The store {str(self._path)!r} has no runs yet, so 'latest' names none; "
                    "run calibrax-run first or pass another --db."
                )
            return str(row[0])
        if db.execute("SELECT 1 FROM runs WHERE id = ?", [ref]).fetchone():
            return ref
        prefix_sql = "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6"
        matches = [str(r[0]) for r in db.execute(prefix_sql, [len(ref), ref])] if ref else []
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError(
                f"The run reference {ref!r} is the start of several run ids "
                f"({', '.join(matches)}); give more characters of the id."
            )
        recent = [str(r[0]) for r in db.execute(_LATEST_SQL, [_RECENT])]
        listed = ", ".join(recent) if recent else "none, the store is empty"
        raise NotFoundError(
            f"No run matches {ref!r} in {str(self._path)!r}. Most recent runs: {listed}. "
            "Pass a full run id, a unique prefix of one, or 'latest'."
        )

    def _fetch_run(self, db: Database, run_id: str) -> RunInfo:
        return self._run_info(next(db.query("SELECT * FROM runs WHERE id = ?", [run_id])))

    def _require_run(self, db: Database, run_id: str) -> None:
        if db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is None:
            raise NotFoundError(
                f"No run with id {run_id!r} in {str(self._path)!r}; call begin_run before "
                "writing to a run, and pass its full id."
            )

    def _unknown_baseline(self, name: str) -> NotFoundError:
        known = [b.name for b in self.list_baselines()]
        return NotFoundError(
            unknown_name_message("baseline", name, known)
            + " Set one with `calibrax baseline set NAME [RUN]`."
        )
