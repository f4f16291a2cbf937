"""Store methods for annotations of runs: notes, exclusions and accepted shifts.

An exclusion keeps the results in the store but leaves them out of every history (a run, all of
one benchmark's cases in a run, or one case); an accepted shift makes histories restart at the
run: changepoint segments and history-based baselines begin again there, for every case of the
run or only for one benchmark, one case or one measure. A mixin of
:class:`calibrax.storage.Store`, kept apart so each file stays small.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlite_utils import Database

from calibrax.core import CalibraxError, NotFoundError
from calibrax.core.models import canonical_params
from calibrax.storage import _sqlite

__all__ = ["ACCEPTED_SINCE_SQL", "EXCLUDED_SQL", "Annotation", "AnnotationKind", "AnnotationsMixin"]

AnnotationKind = Literal["note", "exclude", "accept"]

EXCLUDED_SQL = """EXISTS (SELECT 1 FROM annotations a WHERE a.run_id = c.run_id AND a.kind = 'exclude'
    AND (a.benchmark IS NULL OR (a.benchmark = c.benchmark AND (a.params_key IS NULL OR a.params_key = c.params_key))))"""
"""True for a case row ``c`` that an exclusion leaves out of histories."""

ACCEPTED_SINCE_SQL = """COALESCE((SELECT MAX(ar.started_at) FROM annotations a JOIN runs ar ON ar.id = a.run_id
    WHERE a.kind = 'accept' AND (a.measure IS NULL OR a.measure = m.name)
    AND (a.benchmark IS NULL OR (a.benchmark = c.benchmark AND (a.params_key IS NULL OR a.params_key = c.params_key)))),
    '')"""
"""The start time of the newest accepted run ('' when none) that applies to a case row ``c`` and its
measure row ``m``: history-based baselines begin there."""

_MAX_TEXT = 2000


@dataclass(frozen=True)
class Annotation:
    """A note, exclusion or accepted shift attached to a run.

    Attributes:
        id: its number in the store (annotations are listed in the order they were made).
        run_id: the run annotated.
        kind: ``note``, ``exclude`` or ``accept``.
        text: the note, or why the run was excluded or its shift accepted.
        created_at: when it was stored (ISO-8601, UTC).
        benchmark: an exclusion or accepted shift of one benchmark's cases only; None for the
            whole run.
        params_key: an exclusion or accepted shift of one case only (its canonical params); None
            for all.
        measure: an accepted shift of one measure only; None for every measure.

    Example:
        >>> Annotation(1, "r1", "accept", "new allocator", "2026-12-01T00:00:00+00:00").kind
        'accept'
    """

    id: int
    run_id: str
    kind: AnnotationKind
    text: str
    created_at: str
    benchmark: str | None = None
    params_key: str | None = None
    measure: str | None = None

    @property
    def target(self) -> str:
        """What it applies to: ``run``, a benchmark name or ``benchmark{params}``, then `` (measure)``.

        Example:
            >>> Annotation(1, "r1", "exclude", "noisy host", "", "matmul", '{"n": 64}').target
            'matmul{"n": 64}'
            >>> Annotation(2, "r1", "accept", "new allocator", "", None, None, "peak_rss").target
            'run (peak_rss)'
        """
        what = "run" if self.benchmark is None else self.benchmark + (self.params_key or "")
        return what if self.measure is None else f"{what} ({self.measure})"

    def applies_to(self, benchmark: str, params_key: str, measure: str | None = None) -> bool:
        """Whether it concerns this case (and measure, when given): a run-wide one concerns all.

        Example:
            >>> a = Annotation(1, "r1", "accept", "fused kernel", "", "matmul", '{"n": 64}', "time")
            >>> a.applies_to("matmul", '{"n": 64}', "time"), a.applies_to("matmul", '{"n": 128}', "time")
            (True, False)
        """
        return ((self.benchmark is None or self.benchmark == benchmark)
                and (self.params_key is None or self.params_key == params_key)
                and (measure is None or self.measure is None or self.measure == measure))

    def to_dict(self) -> dict[str, Any]:
        """The annotation as JSON output shows it: its fields and its ``target``.

        Example:
            >>> Annotation(1, "r1", "note", "new image", "2026-12-01T00:00:00+00:00").to_dict()["target"]
            'run'
        """
        return {**asdict(self), "target": self.target}


class AnnotationsMixin:
    """Annotate, exclude and accept runs; read the annotations back."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

        def _resolve(self, db: Database, ref: str) -> str: ...

    def annotate(self, run_ref: str, note: str) -> Annotation:
        """Attach a note to a run; the dashboard and ``calibrax history`` show it.

        Raises:
            CalibraxError: the note is empty or longer than 2000 characters.
            NotFoundError: no run matches ``run_ref``.

        Example:
            store.annotate("latest", "first run on the new runner image").kind  # 'note'
        """
        return self._add("note", run_ref, note, None, None)

    def exclude(self, run_ref: str, why: str, *, benchmark: str | None = None,
                params: Mapping[str, Any] | None = None) -> Annotation:
        """Leave a run (or one benchmark's cases in it, or one case) out of every history.

        The results stay in the store and in the run's own report; histories, changepoints and
        history-based gates skip them.

        Args:
            run_ref: the run (``latest``, an id or a unique prefix).
            why: the reason, shown wherever the exclusion is listed.
            benchmark: exclude only this benchmark's cases of the run.
            params: with ``benchmark``, exclude only the case with exactly these params.

        Raises:
            CalibraxError: ``why`` is empty, or ``params`` is given without ``benchmark``.
            NotFoundError: no run matches, or the run has no such benchmark or case.

        Example:
            store.exclude("r7", "thermal throttling", benchmark="matmul", params={"n": 64}).target
        """
        if params is not None and benchmark is None:
            raise CalibraxError("params of an exclusion name a case of a benchmark: give the benchmark too.")
        key = canonical_params(params) if params is not None else None
        return self._add("exclude", run_ref, why, benchmark, key)

    def accept(self, run_ref: str, why: str, *, benchmark: str | None = None,
               params: Mapping[str, Any] | None = None, measure: str | None = None) -> Annotation:
        """Accept the shift a run starts: histories restart there, as after an intended change.

        Changepoint segments and history-based baselines begin again at this run, so the shift
        is no longer reported as a regression and later runs are judged against the new level:
        for every case and measure of the run, or only for one benchmark's cases, one case, or
        one measure.

        Args:
            run_ref: the run (``latest``, an id or a unique prefix).
            why: the reason, shown wherever the accepted shift is listed.
            benchmark: accept the shift of this benchmark's cases only.
            params: with ``benchmark``, accept the shift of the case with exactly these params only.
            measure: accept the shift of this measure only (e.g. ``time``).

        Raises:
            CalibraxError: ``why`` is empty, or ``params`` is given without ``benchmark``.
            NotFoundError: no run matches, the run has no such benchmark or case, or none of its
                cases (in that scope) has the measure.

        Example:
            store.accept("r18", "switched to the fused kernel on purpose").kind  # 'accept'
            store.accept("r18", "new allocator", benchmark="matmul", measure="peak_rss").target
        """
        if params is not None and benchmark is None:
            raise CalibraxError("params of an accepted shift name a case of a benchmark: give the benchmark too.")
        key = canonical_params(params) if params is not None else None
        return self._add("accept", run_ref, why, benchmark, key, measure)

    def load_annotations(self, *, run_id: str | None = None, kind: AnnotationKind | None = None) -> list[Annotation]:
        """Annotations in the order they were made, optionally of one run or one kind only.

        Example:
            [a.text for a in store.load_annotations(kind="exclude")]  # ['thermal throttling']
        """
        sql = "SELECT id, run_id, kind, text, created_at, benchmark, params_key, measure FROM annotations"
        where, args = [], []
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._read() as db:
            return [Annotation(*row) for row in db.execute(sql + " ORDER BY id", args).fetchall()]

    def _add(self, kind: AnnotationKind, run_ref: str, text: str, benchmark: str | None,
             params_key: str | None, measure: str | None = None) -> Annotation:
        text = text.strip()
        if not text or len(text) > _MAX_TEXT:
            what = "a note" if kind == "note" else "a reason (--why)"
            raise CalibraxError(f"An annotation needs {what} of 1 to {_MAX_TEXT} characters, got {len(text)}.")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._write() as db:
            run_id = self._resolve(db, run_ref)
            if benchmark is not None:
                _require_case(db, run_id, benchmark, params_key)
            if measure is not None:
                _require_measure(db, run_id, benchmark, params_key, measure)
            row = {"run_id": run_id, "kind": kind, "benchmark": benchmark, "params_key": params_key, "text": text,
                   "created_at": created, "measure": measure}
            new_id = _sqlite.insert(db, "annotations", row)
        return Annotation(new_id, run_id, kind, text, created, benchmark, params_key, measure)


def _require_case(db: Database, run_id: str, benchmark: str, params_key: str | None) -> None:
    rows = db.execute("SELECT DISTINCT params_key FROM cases WHERE run_id = ? AND benchmark = ?",
                      [run_id, benchmark]).fetchall()
    if not rows:
        names = sorted(str(r[0]) for r in db.execute("SELECT DISTINCT benchmark FROM cases WHERE run_id = ?",
                                                     [run_id]))
        raise NotFoundError(f"Run {run_id!r} has no case of benchmark {benchmark!r}; its benchmarks are: "
                            f"{', '.join(names) or 'none'}.")
    keys = [str(r[0]) for r in rows]
    if params_key is not None and params_key not in keys:
        raise NotFoundError(f"Run {run_id!r} has no case {benchmark}{params_key}; its {benchmark} cases have params "
                            f"{', '.join(keys)}.")


def _require_measure(db: Database, run_id: str, benchmark: str | None, params_key: str | None, measure: str) -> None:
    sql = "SELECT DISTINCT m.name FROM measures m JOIN cases c ON c.id = m.case_id WHERE c.run_id = ?"
    args: list[Any] = [run_id]
    if benchmark is not None:
        sql += " AND c.benchmark = ?"
        args.append(benchmark)
    if params_key is not None:
        sql += " AND c.params_key = ?"
        args.append(params_key)
    names = sorted(str(r[0]) for r in db.execute(sql, args).fetchall())
    if measure not in names:
        where = "run " + repr(run_id) + ("" if benchmark is None else f" ({benchmark}{params_key or ''})")
        raise NotFoundError(f"No case of {where} has the measure {measure!r}; its measures are: "
                            f"{', '.join(names) or 'none'}.")
