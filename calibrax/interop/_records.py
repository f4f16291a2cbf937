"""What an importer gives back: runs read from another tool's file, where each came from, and
the ``time`` measure built from that tool's figures.

Every reader returns :class:`ImportedRun` records (core records plus an :class:`ImportOrigin`);
:mod:`calibrax.interop._importer` writes them through the store's public API.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from calibrax.core import (
    STANDARD_MEASURES,
    Basis,
    CalibraxError,
    CaseResult,
    CaseStatus,
    MeasureResult,
    Provenance,
    RunInfo,
    RunStatus,
    Summary,
)
from calibrax.statistics import summarize

__all__ = [
    "ORIGIN_KEY",
    "ImportOrigin",
    "ImportedRun",
    "InteropError",
    "import_run_id",
    "iso_utc",
    "origin_of",
    "run_status",
    "time_result",
]

ORIGIN_KEY = "imported"
"""The key of a run's ``config`` under which an imported run records its :class:`ImportOrigin`."""


class InteropError(CalibraxError):
    """Raised when a file of another tool cannot be read or a run cannot be written in its format."""


@dataclass(frozen=True)
class ImportOrigin:
    """Where an imported run came from.

    Attributes:
        tool: ``pytest-benchmark``, ``asv`` or ``google-benchmark``.
        format_version: the tool's version or format version as the file states it.
        source: the file the run was read from (absolute path).
        original_ids: the tool's own identifiers of the run (commit, machine, env, file name).

    Example:
        >>> o = ImportOrigin("asv", "2", "/r/m/abc-env.json", {"commit_hash": "abc"})
        >>> ImportOrigin.from_dict(o.to_dict()) == o
        True
    """

    tool: str
    format_version: str
    source: str
    original_ids: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The origin as JSON-ready data (what the run's config stores)."""
        return {**asdict(self), "original_ids": dict(self.original_ids)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportOrigin:
        """Rebuild an origin from :meth:`to_dict`'s data."""
        ids = {str(k): str(v) for k, v in dict(data.get("original_ids") or {}).items()}
        return cls(str(data["tool"]), str(data["format_version"]), str(data["source"]), ids)


def origin_of(run: RunInfo) -> ImportOrigin | None:
    """The origin of an imported run; None for a run that calibrax measured itself.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> origin_of(RunInfo("r1", "2026-01-01T00:00:00+00:00", RunStatus.OK)) is None
        True
    """
    data = run.config.get(ORIGIN_KEY)
    return ImportOrigin.from_dict(data) if isinstance(data, Mapping) else None


@dataclass(frozen=True)
class ImportedRun:
    """One run read from another tool's file, ready to store.

    Attributes:
        run: its metadata; ``config[ORIGIN_KEY]`` holds ``origin``.
        cases: its cases, in the file's order.
        origin: where it came from.
    """

    run: RunInfo
    cases: tuple[CaseResult, ...]
    origin: ImportOrigin


def import_run_id(tool: str, *parts: bytes | str) -> str:
    """A run id that only the imported content decides: importing it again finds it stored.

    Example:
        >>> import_run_id("asv", b"{}") == import_run_id("asv", b"{}")
        True
    """
    digest = hashlib.sha256(tool.encode())
    for part in parts:
        digest.update(b"\0" + (part.encode() if isinstance(part, str) else part))
    return f"import-{tool}-{digest.hexdigest()[:16]}"


def iso_utc(value: str | float | int | None) -> str:
    """An ISO-8601 UTC time from an ISO string (any offset; naive reads as UTC) or epoch milliseconds.

    Raises:
        InteropError: the value is neither.

    Example:
        >>> iso_utc(0)
        '1970-01-01T00:00:00+00:00'
        >>> iso_utc("2026-12-07T03:23:39+01:00")
        '2026-12-07T02:23:39+00:00'
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC).isoformat()
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InteropError(f"Expected an ISO-8601 date or epoch milliseconds, got {value!r}.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def time_result(
    samples: Sequence[float] | None,
    source: str,
    *,
    summary: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> MeasureResult:
    """The ``time`` measure (seconds per call) from a tool's samples, or from its summary alone.

    With samples, the summary is calibrax's own (:func:`calibrax.statistics.summarize`). Without,
    ``summary`` gives ``n`` and whatever figures the file has (``median``, ``mean``, ``min``,
    ``max``, ``std``, ``iqr``, ``ci_low``, ``ci_high``, ``ci_level``); figures it lacks are NaN and
    no samples are invented.

    Raises:
        InteropError: neither samples nor a summary with ``n`` and ``median``.

    Example:
        >>> time_result([1.0, 2.0, 3.0], "asv 0.6").summary.median
        2.0
        >>> r = time_result(None, "asv 0.6", summary={"n": 10, "median": 2.0})
        >>> r.samples, r.summary.n, math.isnan(r.summary.mean)
        ((), 10, True)
    """
    provenance = Provenance(Basis.MEASURED, source)
    measure = STANDARD_MEASURES["time"]
    if samples:
        values = tuple(float(v) for v in samples)
        return MeasureResult(measure, values, summarize(values), dict(meta or {}), provenance)
    if not summary or summary.get("n") is None or summary.get("median") is None:
        raise InteropError(f"A {source} result has neither samples nor a median with its count; "
                           "it cannot be stored as a time measure.")
    s = dict(summary)
    f = {k: _number(s.get(k)) for k in ("median", "mean", "min", "max", "std", "iqr", "ci_low", "ci_high")}
    stored = Summary(n=int(s["n"]), median=f["median"], mean=f["mean"], min=f["min"], max=f["max"], std=f["std"],
                     iqr=f["iqr"], mad=math.nan, ci_low=f["ci_low"], ci_high=f["ci_high"],
                     ci_level=float(s.get("ci_level") or 0.95))
    return MeasureResult(measure, (), stored, {**dict(meta or {}), "summary_only": True}, provenance)


def run_status(cases: Sequence[CaseResult]) -> RunStatus:
    """``failed`` when a case ended in error, else ``ok`` (skipped cases do not fail a run).

    Example:
        >>> run_status([])
        <RunStatus.OK: 'ok'>
    """
    return RunStatus.FAILED if any(c.status is CaseStatus.ERROR for c in cases) else RunStatus.OK
