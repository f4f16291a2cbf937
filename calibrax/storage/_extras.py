"""Store methods for the results of checks: monitoring alerts and validation reports.

A mixin of :class:`calibrax.storage.Store`, kept apart so each file stays small; it uses the
store's transaction helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from calibrax.core import Alert, CalibraxError, Severity, ValidationEntry
from calibrax.storage import _rows

__all__ = ["ChecksMixin"]


class ChecksMixin:
    """Alerts (one per id, so re-evaluating a history raises nothing twice) and validation checks."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _require_run(self, db: Database, run_id: str) -> None: ...

    # Alerts

    def add_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Store alerts whose id is not stored yet, in one transaction; return those added.

        Example:
            store.add_alerts([alert])  # [alert] the first time, [] after
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
