"""Store methods for the results of checks (monitoring alerts, validation reports), report
history, and the files written for a case (artifacts such as a profiler trace).

A mixin of :class:`calibrax.storage.Store`, kept apart so each file stays small; it uses the
store's transaction helpers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from calibrax.core import Alert, BenchmarkResult, CalibraxError, NotFoundError, Severity, StoreError, ValidationEntry
from calibrax.storage import _rows
from calibrax.storage._annotations import EXCLUDED_SQL

__all__ = ["Artifact", "ChecksMixin"]


@dataclass(frozen=True)
class Artifact:
    """A file written for one case of a run, such as a ``jax.profiler`` trace.

    Attributes:
        run_id: the run.
        case_seq: the case's position in the run (0 for the first case stored).
        name: its name within the case (``trace``).
        kind: what the file is (``perfetto_trace``).
        path: where it was written (absolute).
        summary: JSON-ready facts read from it (for a trace, its top XLA ops).
        created_at: when it was stored (ISO-8601, UTC).
    """

    run_id: str
    case_seq: int
    name: str
    path: str
    kind: str = ""
    summary: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = ""


class ChecksMixin:
    """Alerts (one per id, so re-evaluating a history raises nothing twice) and validation checks."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _require_run(self, db: Database, run_id: str) -> None: ...

    # Benchmark-level results

    def add_benchmark_result(self, run_id: str, result: BenchmarkResult) -> None:
        """Store what a benchmark's cases give together (its complexity fits), replacing any
        earlier result of the same benchmark in this run.

        Raises:
            NotFoundError: no run has this id.

        Example:
            store.add_benchmark_result("r2", BenchmarkResult("matmul", (fit,)))
        """
        with self._write() as db:
            self._require_run(db, run_id)
            db.execute("INSERT OR REPLACE INTO benchmark_results (run_id, benchmark, complexity) VALUES (?, ?, ?)",
                       [run_id, result.benchmark, json.dumps([dict(f) for f in result.complexity], default=str)])

    def load_benchmark_results(self, run_id: str) -> tuple[BenchmarkResult, ...]:
        """A run's benchmark-level results, by benchmark name.

        Example:
            [r.benchmark for r in store.load_benchmark_results("r2")]  # ['matmul']
        """
        with self._read() as db:
            rows = db.execute("SELECT benchmark, complexity FROM benchmark_results WHERE run_id = ? ORDER BY benchmark",
                              [run_id]).fetchall()
        return tuple(BenchmarkResult(b, tuple(json.loads(c))) for b, c in rows)

    # Alerts

    def add_alerts(self, alerts: Sequence[Alert], *, sinks: Sequence[str] = ()) -> list[Alert]:
        """Store alerts whose id is not stored yet, in one transaction; return those added.

        Each added alert gets a pending delivery to every sink named in ``sinks`` (the outbox,
        see ``claim_deliveries``), in the same transaction.

        Example:
            store.add_alerts([alert], sinks=["log"])  # [alert] the first time, [] after
        """
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        added = []
        with self._write() as db:
            for a in alerts:
                row = _rows.alert_row(a, created_at)
                columns = ", ".join(row)
                marks = ", ".join("?" * len(row))
                cursor = db.execute(f"INSERT OR IGNORE INTO alerts ({columns}) VALUES ({marks})", list(row.values()))
                if cursor.rowcount:
                    added.append(a)
                    for sink in sinks:
                        db.execute("INSERT OR IGNORE INTO alert_deliveries (alert_id, sink) VALUES (?, ?)", [a.id, sink])
        return added

    def load_alerts(self, *, limit: int | None = None, min_severity: Severity | str = Severity.INFO,
                    run_id: str | None = None) -> list[Alert]:
        """Return stored alerts, newest data point first.

        Args:
            limit: at most this many.
            min_severity: only alerts at least this severe.
            run_id: only alerts raised by this run's results.

        Raises:
            CalibraxError: ``limit`` is negative or ``min_severity`` is not a severity.

        Example:
            [a.rule for a in store.load_alerts(min_severity="critical")]
        """
        if limit is not None and limit < 0:
            raise CalibraxError(f"limit must be None or a count of alerts >= 0, got {limit!r}.")
        try:
            floor = Severity(min_severity).rank
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise CalibraxError(f"min_severity must be one of {allowed}, got {min_severity!r}.") from None
        severities = [s.value for s in Severity if s.rank >= floor]
        where = f"severity IN ({', '.join('?' * len(severities))})"
        args: list[object] = list(severities)
        if run_id is not None:
            where += " AND run_id = ?"
            args.append(run_id)
        args.append(-1 if limit is None else limit)
        sql = f"SELECT * FROM alerts WHERE {where} ORDER BY at DESC, rowid DESC LIMIT ?"
        with self._read() as db:
            return [_rows.alert(row) for row in db.query(sql, args)]

    def alert_ids(self) -> set[str]:
        """The ids of every stored alert.

        Example:
            "c8cfc23cf2eb64f5" in store.alert_ids()
        """
        with self._read() as db:
            return {str(r[0]) for r in db.execute("SELECT id FROM alerts")}

    def benchmark_names(self) -> list[str]:
        """Every benchmark with a stored case, sorted.

        Example:
            store.benchmark_names()  # ['matmul', 'softmax']
        """
        with self._read() as db:
            return [str(r[0]) for r in db.execute("SELECT DISTINCT benchmark FROM cases ORDER BY benchmark")]

    # Validation

    def add_validation(self, run_id: str, entries: Sequence[ValidationEntry], *, gate: bool = False) -> None:
        """Store a run's validation checks; they replace any stored earlier for the run.

        Raises:
            NotFoundError: no run has this id.

        Example:
            store.add_validation("r2", report.entries, gate=report.gate)
        """
        rows = [_rows.validation_row(run_id, i, e, gate) for i, e in enumerate(entries)]
        with self._write() as db:
            self._require_run(db, run_id)
            db.execute("DELETE FROM validations WHERE run_id = ?", [run_id])
            db.table("validations").insert_all(rows)

    def load_validation(self, run_id: str) -> tuple[list[ValidationEntry], bool]:
        """Return a run's validation checks in the order stored, and whether they gate the run.

        Example:
            entries, gate = store.load_validation("r2")
        """
        with self._read() as db:
            rows = list(db.query("SELECT * FROM validations WHERE run_id = ? ORDER BY seq", [run_id]))
        return [_rows.validation_entry(r) for r in rows], any(bool(r["gate"]) for r in rows)

    # Report history

    def recent_medians(self, run_id: str, measure: str = "time", *, limit: int = 30) -> list[tuple[Any, ...]]:
        """The medians of ``measure`` of every ok case over a run's recent history, in one query.

        The history is the ``limit`` newest runs on the same hardware fingerprint that started no
        later than ``run_id`` (the run itself included), so a report drawn again later shows the
        history the run had.

        Returns:
            Tuples ``(run_id, started_at, git_commit, benchmark, params_key, median)``, oldest
            run first, cases in measured order.

        Raises:
            CalibraxError: ``limit`` is below 1.
            NotFoundError: no run has this id.

        Example:
            store.recent_medians("r2", limit=10)  # [("r1", "...", "abc", "matmul", '{"n": 64}', 0.01), ...]
        """
        if limit < 1:
            raise CalibraxError(f"limit must be a count of runs >= 1, got {limit!r}.")
        # The run's own hardware and start time select its history; IS matches runs without hardware too.
        sql = """
            WITH me AS (SELECT hardware_id, started_at FROM runs WHERE id = ?),
            recent AS (
                SELECT r.id, r.started_at, r.git_commit, r.rowid AS row FROM runs r, me
                WHERE r.hardware_id IS me.hardware_id AND (r.started_at < me.started_at OR r.id = ?)
                ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?
            )
            SELECT recent.id, recent.started_at, recent.git_commit, c.benchmark, c.params_key, m.median
            FROM recent
            JOIN cases c ON c.run_id = recent.id AND c.status = 'ok'
            JOIN measures m ON m.case_id = c.id AND m.name = ?
            WHERE NOT {excluded}
            ORDER BY recent.started_at, recent.row, c.seq
        """.replace("{excluded}", EXCLUDED_SQL)
        with self._read() as db:
            self._require_run(db, run_id)
            return [tuple(row) for row in db.execute(sql, [run_id, run_id, limit, measure]).fetchall()]

    # Artifacts

    def add_artifact(self, run_id: str, case_seq: int, name: str, path: str, *, kind: str = "",
                     summary: Mapping[str, Any] | None = None) -> Artifact:
        """Store (or replace) the file ``name`` of case ``case_seq`` of a run.

        Raises:
            NotFoundError: the run has no case at ``case_seq``.

        Example:
            store.add_artifact("r2", 0, "trace", "/abs/traces/r2/matmul/n=64/perfetto_trace.json.gz",
                               kind="perfetto_trace", summary={"ops": [...]})
        """
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        artifact = Artifact(run_id, int(case_seq), name, str(path), kind, dict(summary or {}), created_at)
        with self._write() as db:
            found = db.execute("SELECT 1 FROM cases WHERE run_id = ? AND seq = ?", [run_id, artifact.case_seq]).fetchone()
            if found is None:
                raise NotFoundError(
                    f"Run {run_id!r} has no case at position {case_seq}; store the case (Store.add_case) before "
                    "its artifacts."
                )
            insert_artifact(db, artifact)
        return artifact

    def load_artifacts(self, run_id: str, *, case_seq: int | None = None, kind: str | None = None) -> list[Artifact]:
        """Return a run's artifacts in case order, optionally of one case or one kind.

        Example:
            [a.path for a in store.load_artifacts("r2", kind="perfetto_trace")]
        """
        where = "run_id = ?"
        args: list[Any] = [run_id]
        if case_seq is not None:
            where += " AND case_seq = ?"
            args.append(int(case_seq))
        if kind is not None:
            where += " AND kind = ?"
            args.append(kind)
        with self._read() as db:
            rows = list(db.query(f"SELECT * FROM artifacts WHERE {where} ORDER BY case_seq, name", args))
        return [Artifact(r["run_id"], int(r["case_seq"]), r["name"], r["path"], r["kind"], json.loads(r["summary"]),
                         r["created_at"]) for r in rows]


def insert_artifact(db: Database, artifact: Artifact) -> None:
    """Write (or replace) one artifact row inside the caller's transaction."""
    db.execute(
        "INSERT OR REPLACE INTO artifacts (run_id, case_seq, name, kind, path, summary, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [artifact.run_id, artifact.case_seq, artifact.name, artifact.kind, artifact.path,
         _rows.dumps(dict(artifact.summary)), artifact.created_at],
    )


def case_artifacts(run_id: str, seq: int, artifacts: Mapping[str, Any], created_at: str) -> list[Artifact]:
    """The artifacts a case lists (``CaseResult.artifacts``: name -> ``{"path", "kind", "summary"}``).

    Raises:
        StoreError: an entry is not a mapping with a ``path``.
    """
    found = []
    for name, entry in artifacts.items():
        if not isinstance(entry, Mapping) or not entry.get("path"):
            raise StoreError(
                f"Case artifacts[{name!r}] must be a mapping with a 'path' (and optional 'kind' and "
                f"'summary'), got {entry!r}."
            )
        found.append(Artifact(run_id, seq, str(name), str(entry["path"]), str(entry.get("kind") or ""),
                              dict(entry.get("summary") or {}), created_at))
    return found
