"""Store methods that read the whole store's history in a few set-based queries (``calibrax publish``).

Each returns plain columns, not records, so a caller can turn a million case rows into arrays
without a Python object per row. A mixin of :class:`calibrax.storage.Store`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from calibrax.core.models import canonical_params

__all__ = ["SeriesMixin"]

_STAMPS_SQL = "SELECT benchmark, cases, last_id FROM benchmark_stamps"  # kept by triggers on cases
_RUNS_SQL = "SELECT rowid, id, started_at, git_commit, hardware_id FROM runs ORDER BY started_at, rowid"
_ROWS_SQL = """
SELECT c.id, c.benchmark, c.params_key, r.rowid, m.median, m.ci_low, m.ci_high
FROM measures m
JOIN cases c ON c.id = m.case_id
JOIN runs r ON r.id = c.run_id
WHERE m.case_id > ? AND m.name = ? AND c.status = 'ok' AND m.median IS NOT NULL AND r.interleaved_of IS NULL
"""
_NAMES_SQL = """
WITH RECURSIVE b(name) AS (
    SELECT MIN(benchmark) FROM cases
    UNION ALL SELECT (SELECT MIN(benchmark) FROM cases WHERE benchmark > b.name) FROM b WHERE b.name IS NOT NULL
)
SELECT name FROM b WHERE name IS NOT NULL
"""  # every stored benchmark name, one index seek each (a plain DISTINCT walks every case row)
_NEWER_SQL = "SELECT benchmark, id FROM cases WHERE id > ?"
_UNIT_SQL = """
SELECT m.unit, m.direction FROM cases c JOIN measures m ON m.case_id = c.id AND m.name = ?
WHERE c.benchmark = ? AND c.status = 'ok' LIMIT 1
"""
_VERDICTS_SQL = """
SELECT v.benchmark, v.params, r.hardware_id, v.verdict, MAX(r.started_at || printf('%020d', v.rowid))
FROM verdicts v JOIN runs r ON r.id = v.run_id
WHERE v.measure = ? AND v.benchmark IN (SELECT value FROM json_each(?))
GROUP BY v.benchmark, v.params, r.hardware_id
"""


class SeriesMixin:
    """Whole-store reads for the dashboard: one query per benchmark, not one per case."""

    if TYPE_CHECKING:

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

    def benchmark_stamps(self) -> dict[str, tuple[int, int]]:
        """Per benchmark: how many case rows it has and the newest case row id stored for it.

        Two stores with equal stamps for a benchmark hold the same results of it (case rows are
        only ever added or deleted, and a deletion lowers the count), so a page built from it
        need not be built again. Read from ``benchmark_stamps``, which triggers keep current: no
        pass over the case rows.

        Example:
            store.benchmark_stamps()  # {'matmul': (30, 30)}
        """
        with self._read() as db:
            return {str(b): (int(n), int(last)) for b, n, last in db.execute(_STAMPS_SQL).fetchall()}

    def runs_table(self) -> list[tuple[int, str, str, str | None, str | None]]:
        """Every run as ``(rowid, id, started_at, git_commit, hardware_id)``, oldest first.

        Example:
            store.runs_table()[0][1]  # 'r1'
        """
        with self._read() as db:
            return [tuple(row) for row in db.execute(_RUNS_SQL).fetchall()]

    def case_rows(self, measure: str = "time", *, after_id: int = 0,
                  benchmarks: Sequence[str] | None = None) -> dict[str, Any]:
        """The ok cases stored after case row ``after_id``, in one pass in the order they were stored.

        The linked baseline runs of interleaved gates are left out: their samples are trial values,
        not a run measured the usual way.

        The pass walks the measures in case order (the order they lie in the file), which reads a
        million case rows several times faster than one benchmark at a time through an index.

        Returns:
            A dict with ``rows`` (``(case_id, benchmark, params_key, run_rowid, median, ci_low,
            ci_high)``) and ``units`` (per benchmark with an ok case, the measure's ``(unit,
            direction)``).

        Example:
            store.case_rows()["units"]  # {'matmul': ('s', 'lower')}
        """
        wanted = None if benchmarks is None else set(benchmarks)
        if wanted is not None and not wanted:
            return {"rows": [], "units": {}}
        with self._read() as db:
            stored = [str(r[0]) for r in db.execute(_NAMES_SQL).fetchall()]
            units = {}
            for name in sorted(stored if wanted is None else wanted & set(stored)):
                head = db.execute(_UNIT_SQL, [measure, name]).fetchone()
                if head:
                    units[name] = (str(head[0]), str(head[1]))
            rows = db.execute(_ROWS_SQL, [after_id, measure]).fetchall()
        if wanted is not None and set(stored) - wanted:
            rows = [r for r in rows if r[1] in wanted]
        return {"rows": rows, "units": units}

    def count_cases_after(self, after: Mapping[str, int]) -> dict[str, int]:
        """Per benchmark, how many of its case rows (ok or not) were stored after the given case row id.

        One pass walks the rows after the oldest given id only (by row id, never through the
        benchmark index), so counting what one new run added is cheap.

        Example:
            store.count_cases_after({"matmul": 28})  # {'matmul': 2}
        """
        counts = dict.fromkeys(after, 0)
        if not after:
            return counts
        with self._read() as db:
            for name, case_id in db.execute(_NEWER_SQL, [min(after.values())]).fetchall():
                if name in counts and case_id > after[name]:
                    counts[name] += 1
        return counts

    def last_verdicts(self, benchmarks: Sequence[str], measure: str = "time") -> dict[tuple[str, str, str], str]:
        """The newest verdict of each case per hardware: ``(benchmark, params_key, hardware) -> verdict``.

        Example:
            store.last_verdicts(["matmul"])  # {('matmul', '{"n": 64}', 'a1b2'): 'pass'}
        """
        out: dict[tuple[str, str, str], str] = {}
        with self._read() as db:
            rows = db.execute(_VERDICTS_SQL, [measure, json.dumps(list(benchmarks))]).fetchall()
        for bench, params, hardware, verdict, _ in rows:  # SQLite takes the other columns from the MAX row
            out[(str(bench), canonical_params(json.loads(params)), str(hardware or ""))] = str(verdict)
        return out
