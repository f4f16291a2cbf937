"""Store methods for named baselines and the verdicts of checking a run against one.

A baseline is a name (``main``, ``v1.2``) pointing at a stored run; a check's verdicts are kept
with the run checked. A mixin of :class:`calibrax.storage.Store`, kept apart so each file stays
small; it uses the store's transaction helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from calibrax.core import CalibraxError, NotFoundError, Verdict, unknown_name_message
from calibrax.storage import _rows

__all__ = ["Baseline", "BaselinesMixin"]


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


class BaselinesMixin:
    """Set, list, read and remove named baselines; store and read a run's verdicts."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _resolve(self, db: Database, ref: str) -> str: ...

        def _require_run(self, db: Database, run_id: str) -> None: ...

        def _refuse_linked(self, db: Database, run_id: str, use: str) -> None: ...

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

    def _unknown_baseline(self, name: str) -> NotFoundError:
        known = [b.name for b in self.list_baselines()]
        return NotFoundError(
            unknown_name_message("baseline", name, known)
            + " Set one with `calibrax baseline set NAME [RUN]`."
        )
