"""The data of the dashboard: each benchmark's series per case and hardware, as arrays, with the
changepoints of each segment, in the compact form the pages draw from.

One store query per benchmark; grouping, ordering, exclusions and the changepoint screen run on
numpy arrays. Values are written as integers in a per-series power of ten (6 significant digits
of the largest value), CI bounds as integer offsets from the median, run positions as deltas.

A page's older points can go to a base file of their own (``base_upto``): the points of runs
before that position, per series, which a re-publish leaves as they are while they do not change,
so a new run rewrites only the newer points, the changepoints and the notes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calibrax.analysis import AnalysisError, detect_changepoints, screen_histories
from calibrax.storage import Annotation, Store

__all__ = ["BenchmarkData", "RunIndex", "build_benchmark", "run_index"]

MIN_SEGMENT = 10  # fewer runs than this in a segment: no changepoint search (two halves of 5)
MIN_SIZE = 5  # fewest points (runs or blocks) on each side of a changepoint
MAX_POINTS = 250  # a longer segment is searched in blocks of runs
SPARK_RUNS = 30  # points of the index's sparklines
_SCREEN_ALPHA, _SCREEN_PERMUTATIONS = 0.05, 49
_ALPHA, _PERMUTATIONS = 0.01, 999


@dataclass(frozen=True)
class RunIndex:
    """Every run in start order: its position is the x of commit order on every chart."""

    ids: tuple[str, ...]
    started: tuple[str, ...]
    commits: tuple[str, ...]  # '' outside git
    hardware: tuple[str, ...]  # '' when unknown
    order_of_rowid: NDArray[np.int64]  # run rowid -> position (-1 for none)
    since: int = 0  # first position shown (``--since``)

    def position(self, run_id: str) -> int:
        """The position of a run id, -1 when it is not stored.

        Example:
            >>> import numpy as np
            >>> RunIndex(("a", "b"), ("t1", "t2"), ("", ""), ("", ""), np.array([-1, 0, 1])).position("b")
            1
        """
        return self._positions.get(run_id, -1)

    @property
    def _positions(self) -> dict[str, int]:
        cached = self.__dict__.get("_pos")
        if cached is None:
            cached = {run_id: i for i, run_id in enumerate(self.ids)}
            object.__setattr__(self, "_pos", cached)
        return cached


def run_index(store: Store, since: str | None = None) -> RunIndex:
    """Every run of the store in start order, with positions from ``since`` (an ISO date) on shown.

    Example:
        runs = run_index(store, since="2026-11-01")
    """
    table = store.runs_table()
    rowids = np.array([r[0] for r in table], dtype=np.int64)
    order = np.full(int(rowids.max()) + 1 if rowids.size else 1, -1, dtype=np.int64)
    order[rowids] = np.arange(rowids.size)
    started = tuple(str(r[2]) for r in table)
    first = 0 if since is None else next((i for i, t in enumerate(started) if t >= since), len(started))
    return RunIndex(tuple(str(r[1]) for r in table), started, tuple(str(r[3] or "") for r in table),
                    tuple(str(r[4] or "") for r in table), order, first)


@dataclass(frozen=True)
class BenchmarkData:
    """One benchmark's page data, its rows of the index and its regressions.

    With ``base_upto``, ``page`` holds each series' points from that run position on, and
    ``base`` the older ones (per ``params_key + "\\0" + hardware``: ``e``, ``x``, ``m``, ``lo``,
    ``hi`` as the page has them, the arrays as numpy arrays) with ``base_digest``, a digest of
    them all: equal digests, equal base files.
    """

    name: str
    page: Mapping[str, Any]  # what the benchmark page draws (JSON-ready)
    summary: tuple[Mapping[str, Any], ...]  # one index row per case and hardware
    regressions: tuple[Mapping[str, Any], ...] = field(default=())  # changepoints that made it worse
    base: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    base_digest: str = ""

    def base_json(self) -> dict[str, Any]:
        """The base file's data (JSON-ready).

        Example:
            >>> BenchmarkData("b", {}, ()).base_json()
            {'series': {}}
        """
        return {"series": {key: {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in part.items()}
                           for key, part in self.base.items()}}


_ROW = np.dtype([("id", np.int64), ("benchmark", object), ("key", object), ("rowid", np.int64),
                 ("median", np.float64), ("low", np.float64), ("high", np.float64)])
"""A row of :meth:`Store.case_rows` as a numpy record."""


@dataclass(frozen=True)
class Columns:
    """Every ok result of one benchmark's measure, one array entry per case row, in no order."""

    keys: tuple[str, ...]  # the params keys that ``key`` indexes
    key: NDArray[np.int64]
    rowid: NDArray[np.int64]  # the run's rowid
    median: NDArray[np.float64]
    low: NDArray[np.float64]  # nan where the CI is unknown
    high: NDArray[np.float64]
    unit: str = ""
    direction: str = ""

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], unit: str, direction: str,
                  keys: tuple[str, ...] = ()) -> Columns:
        """Columns of :meth:`Store.case_rows` rows, whose params keys extend ``keys``.

        Rows are ``(case_id, benchmark, params_key, run_rowid, median, ci_low, ci_high)``.

        Example:
            >>> Columns.from_rows([(1, "b", '{"n": 1}', 1, 2.0, None, 3.0)], "s", "lower").low
            array([nan])
        """
        codes = {k: i for i, k in enumerate(keys)}
        if not rows:
            empty = np.empty(0)
            return cls(keys, empty.astype(np.int64), empty.astype(np.int64), empty, empty, empty, unit, direction)
        table = np.array(rows, dtype=_ROW)  # one C pass over the tuples; a NULL bound becomes nan
        key = np.array([codes.setdefault(k, len(codes)) for k in table["key"].tolist()], dtype=np.int64)
        rowid, median, low, high = (np.ascontiguousarray(table[f]) for f in ("rowid", "median", "low", "high"))
        return cls(tuple(codes), key, rowid, median, low, high, unit, direction)

    def extend(self, more: Columns) -> Columns:
        """These columns followed by ``more`` (whose keys extend these).

        Example:
            >>> a = Columns.from_rows([(1, "b", '{}', 1, 2.0, 1.0, 3.0)], "s", "lower")
            >>> a.extend(Columns.from_rows([(2, "b", '{}', 2, 4.0, 3.0, 5.0)], "s", "lower", a.keys)).median.tolist()
            [2.0, 4.0]
        """
        return Columns(more.keys, np.concatenate([self.key, more.key]), np.concatenate([self.rowid, more.rowid]),
                       np.concatenate([self.median, more.median]), np.concatenate([self.low, more.low]),
                       np.concatenate([self.high, more.high]), more.unit or self.unit,
                       more.direction or self.direction)


@dataclass
class _Series:
    params_key: str
    hardware_name: str
    hardware: int  # index into the page's hardware list
    x: NDArray[np.int64]  # run positions, ascending
    median: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    changepoints: list[list[Any]] = field(default_factory=list)
    segments: list[list[Any]] = field(default_factory=list)


def build_benchmark(name: str, columns: Columns, runs: RunIndex, annotations: Sequence[Annotation], *,
                    measure: str = "time", verdicts: Mapping[tuple[str, str, str], str] | None = None,
                    cache: dict[str, Any] | None = None, base_upto: int | None = None) -> BenchmarkData:
    """Build one benchmark's page data, index rows and regressions from its stored results.

    Excluded runs and cases are left out; each accepted run starts a new segment of every series
    it concerns (all, or those of the case it names; accepted shifts of another benchmark or
    measure are ignored); changepoints are searched per segment, only where a quick screen finds
    a shift plausible.

    Args:
        name: the benchmark.
        columns: its results (:meth:`Columns.from_rows` of :meth:`Store.case_rows`).
        runs: every run in start order.
        annotations: every annotation of the store.
        measure: the measure the columns hold.
        verdicts: the newest verdict per ``(benchmark, params_key, hardware)``.
        cache: changepoints found per segment by an earlier build; updated in place.
        base_upto: put the points of runs before this position in ``base``, not in ``page``.

    Example:
        data = build_benchmark("matmul", columns, run_index(store), store.load_annotations())
        data.page["series"][0]["cp"]  # [[position, relative change, p, before, after], ...]
    """
    series = _group(columns, runs, _excluded(name, annotations, runs))
    accepted = sorted((runs.position(a.run_id), a.params_key or "") for a in annotations if a.kind == "accept"
                      and a.benchmark in (None, name) and a.measure in (None, measure))
    _find_changepoints(series, accepted, {} if cache is None else cache)
    hardware = sorted({s.hardware_name for s in series})
    encoded = [_encode(s, base_upto) for s in series]
    base = {f"{s.params_key}\0{s.hardware_name}": older for s, (_, older) in zip(series, encoded, strict=True)
            if older is not None}
    page = {"benchmark": name, "measure": measure, "unit": columns.unit, "direction": columns.direction,
            "params": _param_names(series), "hardware": hardware,
            "series": [newer for newer, _ in encoded],
            "notes": _notes(name, annotations, runs)}
    summary = tuple(_summary_row(name, s, runs, columns.unit, columns.direction, verdicts or {}) for s in series)
    worse = [_regression(name, s, cp, runs, columns.unit) for s in series for cp in s.changepoints
             if (cp[1] > 0) == (columns.direction != "higher")]
    return BenchmarkData(name, page, summary, tuple(worse), base, _base_digest(base) if base_upto is not None else "")


def _excluded(name: str, annotations: Sequence[Annotation], runs: RunIndex) -> dict[str | None, set[int]]:
    """Positions excluded for every case (key None) and per params key."""
    out: dict[str | None, set[int]] = {None: set()}
    for a in annotations:
        if a.kind != "exclude" or (a.benchmark is not None and a.benchmark != name):
            continue
        out.setdefault(a.params_key, set()).add(runs.position(a.run_id))
    return out


def _group(c: Columns, runs: RunIndex, excluded: Mapping[str | None, set[int]]) -> list[_Series]:
    if not c.key.size:
        return []
    x = runs.order_of_rowid[c.rowid]
    hw_names = sorted(set(runs.hardware))
    hw = np.searchsorted(np.array(hw_names), np.array(runs.hardware))[x] if hw_names else np.zeros_like(x)
    keep = (x >= max(runs.since, 0)) & np.isfinite(c.median)
    if excluded.get(None):
        keep &= ~np.isin(x, np.fromiter(excluded[None], dtype=np.int64))
    for key, positions in excluded.items():
        if key is not None and key in c.keys:
            code = c.keys.index(key)
            keep &= ~((c.key == code) & np.isin(x, np.fromiter(positions, dtype=np.int64)))
    order = np.lexsort((x, hw, c.key))
    order = order[keep[order]]
    pair = c.key[order] * (len(hw_names) + 1) + hw[order]
    out = []
    for part in np.split(order, np.flatnonzero(np.diff(pair)) + 1):
        if part.size:
            out.append(_Series(c.keys[int(c.key[part[0]])], hw_names[int(hw[part[0]])], 0, x[part], c.median[part],
                               c.low[part], c.high[part]))
    present = sorted({s.hardware_name for s in out})
    for s in out:
        s.hardware = present.index(s.hardware_name)
    return out


def _find_changepoints(series: Sequence[_Series], accepted: Sequence[tuple[int, str]], cache: dict[str, Any]) -> None:
    """Split each series at accepted runs, screen the segments at once, search the plausible ones.

    ``accepted`` holds the position of each accepted run with the params key of the case it
    concerns ('' for every case).

    A segment longer than :data:`MAX_POINTS` runs is searched in blocks of runs (the median of
    each block), so a changepoint's position is the first run of its block. A segment searched
    before, with fewer than ``min_size`` blocks of runs added since and its older values
    unchanged, keeps the changepoints found then (no new split can have 5 blocks after it).
    """
    todo: list[tuple[_Series, str, int, int, list[float], int]] = []
    used: set[str] = set()
    for s in series:
        mine = [a for a, key in accepted if a >= 0 and key in ("", s.params_key)]
        starts = sorted({0, *(int(np.searchsorted(s.x, a)) for a in mine)} - {s.x.size})
        bounds = [*starts, int(s.x.size)]
        for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            s.segments.append([int(s.x[lo]), int(s.x[hi - 1]), _sig(float(np.median(s.median[lo:hi]))),
                               "accept" if k else "start"])
            if hi - lo < MIN_SEGMENT:
                continue
            key = f"{s.params_key}|{s.hardware_name}|{int(s.x[lo])}"
            used.add(key)
            block = max(1, -(-(hi - lo) // MAX_POINTS))
            known = cache.get(key)
            if known and (hi - lo) - known[0] < MIN_SIZE * block and known[1] == _digest(s.median[lo:lo + known[0]]):
                s.changepoints += known[2]
                cache[key] = known
                continue
            todo.append((s, key, lo, hi, _blocks(s.median[lo:hi], block).tolist(), block))
    flagged = screen_histories([t[4] for t in todo], alpha=_SCREEN_ALPHA, n_permutations=_SCREEN_PERMUTATIONS)
    for (s, key, lo, hi, values, block), plausible in zip(todo, flagged, strict=True):
        found: list[list[Any]] = []
        if plausible:
            try:
                result = detect_changepoints(values, alpha=_ALPHA, correction="bh", n_permutations=_PERMUTATIONS)
            except AnalysisError:
                result = None
            for c in result.changepoints if result else ():
                found.append([int(s.x[lo + c.index * block]), _sig(c.relative_change), _sig(c.p_value),
                              _sig(c.before), _sig(c.after)])
        cache[key] = [hi - lo, _digest(s.median[lo:hi]), found]
        s.changepoints += found
    for gone in set(cache) - used:  # segments that no longer exist (an accepted run moved their start)
        del cache[gone]
    for s in series:
        s.changepoints.sort()
        _split_segments(s)


def _blocks(values: NDArray[np.float64], block: int) -> NDArray[np.float64]:
    """Medians of consecutive blocks of ``block`` values (the last block may be shorter)."""
    if block == 1:
        return values
    full = values.size // block * block
    out = np.median(values[:full].reshape(-1, block), axis=1)
    return np.append(out, np.median(values[full:])) if full < values.size else out


def _digest(values: NDArray[np.float64]) -> str:
    return hashlib.blake2b(np.ascontiguousarray(values).tobytes(), digest_size=8).hexdigest()


def _split_segments(s: _Series) -> None:
    """Cut each segment at its changepoints, with each piece's median level."""
    out = []
    cps = [cp[0] for cp in s.changepoints]
    for start, end, _, kind in s.segments:
        edges = [start, *[c for c in cps if start < c <= end]]
        for k, a in enumerate(edges):
            b_excl = edges[k + 1] if k + 1 < len(edges) else end + 1
            mask = (s.x >= a) & (s.x < b_excl)
            level = _sig(float(np.median(s.median[mask]))) if mask.any() else None
            out.append([a, int(s.x[mask][-1]) if mask.any() else a, level, kind if k == 0 else "changepoint"])
    s.segments = out


def _sig(v: float, digits: int = 4) -> float:
    """``v`` to ``digits`` significant digits (JSON stays short)."""
    if not math.isfinite(v) or v == 0:
        return v if math.isfinite(v) else 0.0
    return round(v, digits - 1 - int(math.floor(math.log10(abs(v)))))


def _encode(s: _Series, base_upto: int | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The series as the page has it, and with ``base_upto`` its points before that position
    apart (their arrays left as numpy arrays: only a base file that is written needs lists)."""
    top = float(np.nanmax(np.abs(s.median))) or 1.0
    exp = int(math.floor(math.log10(top))) - 5
    scale = 10.0**exp
    m = np.rint(s.median / scale).astype(np.int64)
    down = np.where(np.isnan(s.low), -1, np.rint((s.median - s.low) / scale)).astype(np.int64)
    up = np.where(np.isnan(s.high), -1, np.rint((s.high - s.median) / scale)).astype(np.int64)
    dx = np.diff(s.x, prepend=0)
    cut = 0 if base_upto is None else int(np.searchsorted(s.x, base_upto))
    older = None
    if cut:
        older = {"e": exp, "x": dx[:cut], "m": m[:cut], "lo": down[:cut], "hi": up[:cut]}
    return ({"p": s.params_key, "h": s.hardware, "e": exp, "x": dx[cut:].tolist(), "m": m[cut:].tolist(),
             "lo": down[cut:].tolist(), "hi": up[cut:].tolist(), "cp": s.changepoints, "seg": s.segments}, older)


def _base_digest(base: Mapping[str, Mapping[str, Any]]) -> str:
    h = hashlib.blake2b(digest_size=10)
    for key in sorted(base):
        part = base[key]
        h.update(f"{key}\0{part['e']}\0{part['x'].size}\0".encode())
        for name in ("x", "m", "lo", "hi"):
            h.update(np.ascontiguousarray(part[name]).tobytes())
    return h.hexdigest()


def _param_names(series: Sequence[_Series]) -> list[str]:
    names: dict[str, None] = {}
    for s in series:
        names.update(dict.fromkeys(json.loads(s.params_key)))
    return list(names)


def _notes(name: str, annotations: Sequence[Annotation], runs: RunIndex) -> list[list[Any]]:
    return [[runs.position(a.run_id), a.kind, a.text, a.target] for a in annotations
            if a.benchmark in (None, name) and runs.position(a.run_id) >= 0]


def _summary_row(name: str, s: _Series, runs: RunIndex, unit: str, direction: str,
                 verdicts: Mapping[tuple[str, str, str], str]) -> dict[str, Any]:
    hardware = runs.hardware[int(s.x[-1])]
    last_cp = s.changepoints[-1] if s.changepoints else None
    cp = None
    if last_cp is not None:
        cp = {"rel": last_cp[1], "p": last_cp[2], "run": runs.ids[last_cp[0]], "commit": runs.commits[last_cp[0]],
              "worse": (last_cp[1] > 0) == (direction != "higher")}
    low, high = s.low[-1], s.high[-1]
    return {"b": name, "p": s.params_key, "hw": hardware, "unit": unit, "n": int(s.x.size),
            "last": _sig(float(s.median[-1])), "lo": None if np.isnan(low) else _sig(float(low)),
            "hi": None if np.isnan(high) else _sig(float(high)), "run": runs.ids[int(s.x[-1])],
            "spark": [_sig(float(v), 3) for v in s.median[-SPARK_RUNS:]], "cp": cp,
            "verdict": verdicts.get((name, s.params_key, hardware))}


def _regression(name: str, s: _Series, cp: Sequence[Any], runs: RunIndex, unit: str) -> dict[str, Any]:
    pos = int(cp[0])
    return {"b": name, "p": s.params_key, "hw": runs.hardware[pos], "run": runs.ids[pos], "at": runs.started[pos],
            "commit": runs.commits[pos], "rel": cp[1], "pv": cp[2], "before": cp[3], "after": cp[4], "unit": unit}
