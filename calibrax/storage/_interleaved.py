"""Store methods for the evidence of an interleaved gate (``ci=interleaved``).

The gate measures the baseline commit and the candidate side by side in trials. Its baseline
side is stored as a run of its own, *linked* to the candidate run (``runs.interleaved_of``):
that run's cases hold one sample per trial (the trial's best or median round,
``ci.trial_statistic``), so it is not a run measured the usual way, and ``latest``, histories and baselines leave it out. Every trial value of
both sides is kept too, at its position in the gate's trial order, under the candidate run
(``interleaved_trials``), so a report can draw both sides in the order they were measured.

A mixin of :class:`calibrax.storage.Store`; it uses the store's transaction helpers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from calibrax.core import StoreError

__all__ = ["InterleavedLink", "InterleavedMixin", "TrialValue"]

_ARMS = {"A": "baseline", "B": "candidate"}


@dataclass(frozen=True)
class TrialValue:
    """One trial's value (its best or median round) of one measure of one case, on one side of an interleaved gate.

    Attributes:
        case_key: the case (:attr:`~calibrax.core.CaseResult.key`, benchmark plus params).
        measure: the measure's name (``time``).
        position: the trial's place in the gate's order of trials, from 1.
        arm: ``A`` (the baseline commit) or ``B`` (the candidate).
        value: the trial's value.

    Example:
        >>> TrialValue('mm{"n": 8}', "time", 1, "A", 0.002).side
        'baseline'
    """

    case_key: str
    measure: str
    position: int
    arm: str
    value: float

    @property
    def side(self) -> str:
        """``baseline`` (arm A) or ``candidate`` (arm B)."""
        return _ARMS[self.arm]


@dataclass(frozen=True)
class InterleavedLink:
    """A candidate run and the run that holds its interleaved gate's baseline trial values.

    Example:
        >>> InterleavedLink("r2", "r2b").other("r2")
        'r2b'
    """

    candidate_run_id: str
    baseline_run_id: str

    def other(self, run_id: str) -> str:
        """The run on the other side of the link from ``run_id``."""
        return self.baseline_run_id if run_id == self.candidate_run_id else self.candidate_run_id


class InterleavedMixin:
    """The linked baseline run of an interleaved gate and the trial values of both sides."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _require_run(self, db: Database, run_id: str) -> None: ...

    def add_trials(self, run_id: str, trials: Iterable[TrialValue]) -> None:
        """Store the trial values of both sides of ``run_id``'s interleaved gate, replacing any
        stored earlier for the run, in one transaction.

        Raises:
            NotFoundError: no run has this id.
            StoreError: an arm is not ``A`` or ``B``, a position is below 1, or a value is not
                a finite number.

        Example:
            store.add_trials("r2", [TrialValue('mm{"n": 8}', "time", 1, "A", 0.002)])
        """
        rows = []
        for t in trials:
            if t.arm not in _ARMS or t.position < 1 or not math.isfinite(t.value):
                raise StoreError(
                    f"A trial value needs arm 'A' or 'B', a position >= 1 and a finite value; got arm "
                    f"{t.arm!r}, position {t.position}, value {t.value!r} for {t.case_key} {t.measure}."
                )
            rows.append([run_id, t.case_key, t.measure, t.position, t.arm, float(t.value)])
        with self._write() as db:
            self._require_run(db, run_id)
            db.execute("DELETE FROM interleaved_trials WHERE run_id = ?", [run_id])
            db.conn.executemany(
                "INSERT INTO interleaved_trials (run_id, case_key, measure, position, arm, value) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def load_trials(self, run_id: str) -> tuple[TrialValue, ...]:
        """The trial values stored for ``run_id``, by case, measure and trial order (empty when
        the run was not checked by an interleaved gate).

        Example:
            [t.side for t in store.load_trials("r2")]  # ['baseline', 'candidate', ...]
        """
        sql = ("SELECT case_key, measure, position, arm, value FROM interleaved_trials WHERE run_id = ? "
               "ORDER BY case_key, measure, position")
        with self._read() as db:
            rows = db.execute(sql, [run_id]).fetchall()
        return tuple(TrialValue(str(k), str(m), int(p), str(a), float(v)) for k, m, p, a, v in rows)

    def _require_candidate(self, db: Database, run_id: str) -> None:
        """Inside a transaction: ``run_id`` is stored and is not itself a linked baseline run."""
        self._require_run(db, run_id)
        row = db.execute("SELECT interleaved_of FROM runs WHERE id = ?", [run_id]).fetchone()
        if row[0] is not None:
            raise StoreError(f"Run {run_id!r} is itself the interleaved baseline of {row[0]!r}; "
                             "link a baseline run to the candidate run that was gated.")

    def interleaved_links(self, run_ids: Sequence[str] | None = None) -> dict[str, InterleavedLink]:
        """Run id -> its interleaved link, for each run on either side of one (all runs, or those
        among ``run_ids``).

        Example:
            store.interleaved_links(["r2"])  # {'r2': InterleavedLink('r2', 'r2b')}
        """
        with self._read() as db:
            rows = db.execute("SELECT id, interleaved_of FROM runs WHERE interleaved_of IS NOT NULL").fetchall()
        wanted = None if run_ids is None else set(run_ids)
        out: dict[str, InterleavedLink] = {}
        for baseline, candidate in rows:
            link = InterleavedLink(str(candidate), str(baseline))
            for run_id in (link.candidate_run_id, link.baseline_run_id):
                if wanted is None or run_id in wanted:
                    out[run_id] = link
        return out

    def interleaved_baseline_of(self, run_id: str) -> str | None:
        """The run holding the baseline trial values of ``run_id``'s interleaved gate, or None.

        Example:
            store.interleaved_baseline_of("r2")  # 'r2b'
        """
        with self._read() as db:
            row = db.execute("SELECT id FROM runs WHERE interleaved_of = ? ORDER BY rowid DESC LIMIT 1",
                             [run_id]).fetchone()
        return None if row is None else str(row[0])

    def _refuse_linked(self, db: Database, run_id: str, use: str) -> None:
        """Inside a transaction: refuse a linked interleaved baseline run as ``use`` (a named
        baseline), which needs a run measured the usual way."""
        row = db.execute("SELECT interleaved_of FROM runs WHERE id = ?", [run_id]).fetchone()
        if row is not None and row[0] is not None:
            raise StoreError(
                f"Run {run_id!r} holds the baseline side's trial values of the interleaved gate of run "
                f"{row[0]!r}, one sample per trial rather than a run's samples, so it cannot be {use}; "
                f"use run {row[0]!r} or another run measured by calibrax-run."
            )
