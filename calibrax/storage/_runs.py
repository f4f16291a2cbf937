"""Store methods that write and read runs: a run's start, its cases and its finish; run
references (``latest``, ids and prefixes), whole runs read back, the list of runs and one
benchmark's history over them.

A mixin of :class:`calibrax.storage.Store`, kept apart so each file stays small; it uses the
store's transaction helpers.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from calibrax.core import (
    BenchmarkResult,
    CalibraxError,
    CaseResult,
    HardwareInfo,
    MeasureResult,
    NotFoundError,
    RunInfo,
    RunRecord,
    RunStatus,
    StoreError,
)
from calibrax.storage import _rows, _sqlite
from calibrax.storage._annotations import ACCEPTED_SINCE_SQL, EXCLUDED_SQL
from calibrax.storage._extras import case_artifacts, insert_artifact

__all__ = ["RunsMixin"]

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


class RunsMixin:
    """Write a run and its cases; resolve run references and read runs and histories back."""

    if TYPE_CHECKING:
        _path: Path
        _dead: frozenset[str]

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _require_candidate(self, db: Database, run_id: str) -> None: ...

        def load_benchmark_results(self, run_id: str) -> tuple[BenchmarkResult, ...]: ...

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

    # Lookups

    def _run_info(self, row: Mapping[str, Any]) -> RunInfo:
        """A runs row as RunInfo; a dead run of a read-only store reads ``interrupted``."""
        info = _rows.run_info(row)
        if info.id in self._dead and info.status is RunStatus.RUNNING:
            return replace(info, status=RunStatus.INTERRUPTED)
        return info

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
