"""``calibrax publish``: the static history dashboard of a whole store.

The site opens from ``file://`` and from any static host: pages load their data with ``<script>``
tags that assign JSON, and draw it with one small script; nothing is fetched from a network.
``manifest.json`` keeps, per benchmark page, a digest of its inputs (its case rows, the
annotations, the runs before it) and what the index needs of it, and ``.cache/`` keeps each
benchmark's results as arrays: a re-publish reads only the case rows stored since, and rewrites
only the pages whose inputs changed. A page's older points lie in a base file of their own
(``data/b/<page>.base-<digest>.js``), rewritten only when they change or when the newer points
outgrow :data:`NEWER_SHARE` of the page, so a new run rewrites a small file per page.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from calibrax.core import CalibraxError, NotFoundError, unknown_name_message
from calibrax.dashboard import _assets, _feed
from calibrax.dashboard._data import BenchmarkData, Columns, RunIndex, build_benchmark, run_index
from calibrax.storage import Annotation, Store

__all__ = ["DEFAULT_REPORT_URL", "PublishResult", "publish"]

DEFAULT_REPORT_URL = "../reports/{run}/index.html"
"""Where a run's own report is, from the site's folder (``calibrax-run`` writes ``reports/<run>/``)."""

_FORMAT = 2  # bump when the data or page format changes: every page is built again

NEWER_SHARE = 0.2
"""Once a page's points after its base position are more than this share of all its points,
the base moves up to the newest run and its file is written again."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish wrote.

    Attributes:
        out: the site's folder.
        benchmarks: benchmark pages in the site.
        written: benchmark pages built and written by this publish.
        kept: benchmark pages left as they were (their inputs did not change).
        seconds: wall time of the publish.
    """

    out: Path
    benchmarks: int
    written: tuple[str, ...]
    kept: int
    seconds: float


def publish(store: Store, out: str | Path, *, since: str | None = None, benchmarks: Sequence[str] = (),
            measure: str = "time", commit_url: str | None = None,
            report_url: str | None = DEFAULT_REPORT_URL, title: str = "calibrax benchmarks") -> PublishResult:
    """Write (or bring up to date) the static dashboard of ``store`` in ``out``.

    Args:
        store: the store to publish.
        out: the site's folder (created when missing).
        since: an ISO date or time: only runs started then or later are drawn.
        benchmarks: only these benchmarks (default: every stored benchmark).
        measure: the measure followed.
        commit_url: link template of a commit, with ``{sha}`` (``https://github.com/ORG/REPO/commit/{sha}``).
        report_url: link template of a run's report, relative to the site, with ``{run}``.
        title: the site's title.

    Raises:
        NotFoundError: a benchmark in ``benchmarks`` is not stored.
        CalibraxError: a template lacks its placeholder, or ``since`` is not an ISO date.

    Example:
        result = publish(store, "site", commit_url="https://github.com/ORG/REPO/commit/{sha}")
        result.written  # ('matmul', 'conv') on the first publish
    """
    start = time.perf_counter()
    _check_options(since, commit_url, report_url)
    root = Path(out)
    runs = run_index(store, since)
    stamps = store.benchmark_stamps()
    names = _chosen(stamps, benchmarks)
    annotations = store.load_annotations()
    manifest = _load_manifest(root, measure, since, runs)
    slugs = {name: _slug(name) for name in names}
    changed = [n for n in names if manifest["pages"].get(n, {}).get("digest") != _digest(n, stamps[n], annotations)]
    verdicts = store.last_verdicts(changed, measure) if changed else {}
    columns = _columns(store, root, changed, measure, manifest, stamps) if changed else {}
    for name in changed:
        entry = manifest["pages"].setdefault(name, {})
        cache = entry.setdefault("changepoints", {})
        upto = _base_position(columns[name], runs, entry.get("base_upto"))
        data = build_benchmark(name, columns[name], runs, annotations, measure=measure, verdicts=verdicts, cache=cache,
                               base_upto=upto)
        base_file = _write_base(root, slugs[name], data, entry.get("base_digest"))
        _write(root / "data" / "b" / f"{slugs[name]}.js", _assets.data_script("CALIBRAX_PAGE", data.page))
        _write(root / "b" / f"{slugs[name]}.html", _assets.benchmark_html(name, slugs[name], title, base_file))
        entry.update(digest=_digest(name, stamps[name], annotations), summary=list(data.summary),
                     regressions=list(data.regressions), base_upto=upto, base_digest=data.base_digest)
    manifest["pages"] = {n: manifest["pages"][n] for n in names}
    _write_shared(root, manifest, slugs, runs, title, commit_url, report_url, measure)
    manifest["runs"] = {"count": len(runs.ids), "digest": _ids_digest(runs.ids)}
    _write(root / "manifest.json", json.dumps(manifest, separators=(",", ":")))
    return PublishResult(root, len(names), tuple(changed), len(names) - len(changed), time.perf_counter() - start)


def _base_position(columns: Columns, runs: RunIndex, upto: int | None) -> int:
    """The page's base position: the one it had while its newer points are at most
    :data:`NEWER_SHARE` of all its points, else one past its newest run."""
    x = runs.order_of_rowid[columns.rowid]
    if upto is not None and int(np.count_nonzero(x >= upto)) <= NEWER_SHARE * x.size:
        return int(upto)
    return int(x.max()) + 1 if x.size else 0


def _write_base(root: Path, slug: str, data: BenchmarkData, old_digest: str | None) -> str:
    """Write the page's base file unless the one there holds the same points; remove the page's
    older base files; return the file's name."""
    name = f"{slug}.base-{data.base_digest}.js"
    folder = root / "data" / "b"
    if data.base_digest != old_digest or not (folder / name).exists():
        _write(folder / name, _assets.data_script("CALIBRAX_BASE", data.base_json()))
    for stale in folder.glob(f"{slug}.base-*.js"):
        if stale.name != name:
            stale.unlink()
    return name


def _check_options(since: str | None, commit_url: str | None, report_url: str | None) -> None:
    if commit_url is not None and "{sha}" not in commit_url:
        raise CalibraxError(f"The commit URL template needs {{sha}} where the commit goes, got {commit_url!r} "
                            "(e.g. https://github.com/ORG/REPO/commit/{sha}).")
    if report_url is not None and "{run}" not in report_url:
        raise CalibraxError(f"The report URL template needs {{run}} where the run id goes, got {report_url!r} "
                            f"(e.g. {DEFAULT_REPORT_URL}).")
    if since is not None:
        try:
            datetime.fromisoformat(since)
        except ValueError:
            raise CalibraxError(f"--since takes an ISO date or time such as 2026-11-01, got {since!r}.") from None


def _chosen(stamps: Mapping[str, tuple[int, int]], wanted: Sequence[str]) -> list[str]:
    for name in wanted:
        if name not in stamps:
            raise NotFoundError(unknown_name_message("benchmark", name, sorted(stamps)))
    return sorted(wanted) if wanted else sorted(stamps)


def _slug(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60].strip(".") or "benchmark"
    return f"{safe}-{hashlib.blake2b(name.encode(), digest_size=3).hexdigest()}"


def _digest(name: str, stamp: tuple[int, int], annotations: Sequence[Annotation]) -> str:
    mine = [(a.id, a.kind, a.run_id, a.benchmark, a.params_key, a.text) + ((a.measure,) if a.measure else ())
            for a in annotations if a.benchmark in (None, name)]
    return hashlib.blake2b(json.dumps([name, stamp, mine]).encode(), digest_size=12).hexdigest()


def _ids_digest(ids: Sequence[str]) -> str:
    return hashlib.blake2b("\n".join(ids).encode(), digest_size=12).hexdigest()


def _load_manifest(root: Path, measure: str, since: str | None, runs: RunIndex) -> dict[str, Any]:
    """The previous publish's manifest, or an empty one when its pages cannot be kept.

    Pages point at runs by position, so they are kept only when every run the previous publish
    knew is still where it was (new runs come after them), with the same measure and ``since``.
    """
    fresh: dict[str, Any] = {"format": _FORMAT, "measure": measure, "since": since, "pages": {}, "runs": {}}
    try:
        old = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    if not isinstance(old, dict) or [old.get("format"), old.get("measure"), old.get("since")] != [_FORMAT, measure,
                                                                                                  since]:
        return fresh
    count = int(old.get("runs", {}).get("count", -1))
    if count < 0 or count > len(runs.ids) or old["runs"].get("digest") != _ids_digest(runs.ids[:count]):
        return fresh
    return old


def _columns(store: Store, root: Path, names: Sequence[str], measure: str, manifest: dict[str, Any],
             stamps: Mapping[str, tuple[int, int]]) -> dict[str, Columns]:
    """Each benchmark's results: its cached arrays plus the rows stored since, read in one pass.

    A benchmark's cache holds its rows up to its ``last_id``; it is used when the rows stored
    after that are all the rows it lacks (none deleted), otherwise its rows are read again.
    """
    cached: dict[str, Columns] = {}
    for name in names:
        found = _read_columns(_cache_path(root, name)) if manifest["pages"].setdefault(name, {}).get("last_id") else None
        if found is not None:
            cached[name] = found
    last = {name: int(manifest["pages"][name]["last_id"]) for name in cached}
    newer = store.count_cases_after(last)
    for name in list(cached):
        if int(manifest["pages"][name].get("cases", -1)) + newer[name] != stamps[name][0]:
            del cached[name]  # rows were deleted or the cache is stale: read them all again
    after = min((last[n] for n in cached), default=0) if len(cached) == len(names) else 0
    read = store.case_rows(measure, after_id=after, benchmarks=names)
    grouped: dict[str, list[Any]] = {name: [] for name in names}
    for row in read["rows"]:
        grouped[row[1]].append(row)
    out = {}
    for name in names:
        unit, direction = read["units"].get(name, ("", ""))
        old = cached.get(name) if after else None
        rows = grouped[name] if old is None or last[name] == after else [r for r in grouped[name] if r[0] > last[name]]
        more = Columns.from_rows(rows, unit, direction, old.keys if old is not None else ())
        out[name] = old.extend(more) if old is not None else more
        manifest["pages"][name].update(last_id=stamps[name][1], cases=stamps[name][0])
        _save_columns(_cache_path(root, name), out[name])
    return out


def _cache_path(root: Path, name: str) -> Path:
    return root / ".cache" / f"{_slug(name)}.npz"


def _save_columns(path: Path, columns: Columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, key=columns.key, rowid=columns.rowid, median=columns.median, low=columns.low, high=columns.high,
             meta=np.array(json.dumps([list(columns.keys), columns.unit, columns.direction])))


def _read_columns(path: Path) -> Columns | None:
    try:
        with np.load(path) as f:
            keys, unit, direction = json.loads(str(f["meta"]))
            return Columns(tuple(keys), f["key"], f["rowid"], f["median"], f["low"], f["high"], unit, direction)
    except (OSError, ValueError, KeyError):
        return None


def _write_shared(root: Path, manifest: Mapping[str, Any], slugs: Mapping[str, str], runs: RunIndex, title: str,
                  commit_url: str | None, report_url: str | None, measure: str) -> None:
    """The index, the regressions page and feed, the runs table, the site settings and the assets."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows, worse = [], []
    for name, entry in manifest["pages"].items():
        rows += [{**r, "s": slugs[name]} for r in entry.get("summary", [])]
        worse += [{**r, "s": slugs[name]} for r in entry.get("regressions", [])]
    worse.sort(key=lambda r: r["at"], reverse=True)
    site = {"title": title, "commit_url": commit_url, "report_url": report_url, "measure": measure,
            "generated": now, "runs": len(runs.ids)}
    _write(root / "data" / "site.js", _assets.data_script("CALIBRAX_SITE", site))
    _write(root / "data" / "index.js", _assets.data_script("CALIBRAX_INDEX", rows))
    _write(root / "data" / "regressions.js", _assets.data_script("CALIBRAX_REGRESSIONS", worse))
    first = runs.since
    table = {"first": first, "id": list(runs.ids[first:]), "t": [t[:19] for t in runs.started[first:]],
             "c": list(runs.commits[first:])}
    _write(root / "data" / "runs.js", _assets.data_script("CALIBRAX_RUNS", table))
    _write(root / "index.html", _assets.index_html(title))
    _write(root / "regressions.html", _assets.regressions_html(title))
    _write(root / "regressions.xml", _feed.atom(worse, title, now))
    _write(root / "assets" / "dashboard.js", _assets.SCRIPT)
    _write(root / "assets" / "dashboard.css", _assets.STYLE)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
