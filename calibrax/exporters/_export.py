"""Exporting a run: the report input built once from what the exporters declare, then every
exporter rendered into one folder, a failing one recorded and the others still run."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibrax.core import ConfigError, ExporterError, RunRecord
from calibrax.exporters._protocol import Exporter, as_report_input, typed_settings, union_needs
from calibrax.exporters._registry import get_exporter
from calibrax.exporters._report_input import HistoryQuery, ReportInput, read_report_input

__all__ = ["ExportOutcome", "check_report_target", "export_all", "export_report", "report_input_for", "report_settings", "with_baseline"]

_log = logging.getLogger(__name__)


def check_report_target(path: Path, *, folder: bool, what: str) -> None:
    """Check, before anything is rendered or measured, that a report can be written at ``path``.

    A file target must not be a folder (``.``, an empty path) or a device (``/dev/full``); a
    folder target must not be a file; the nearest existing folder above it must be a writable
    folder (missing folders are created when writing).

    Raises:
        ConfigError: naming ``what`` (``--out``, ``report.dir``), the path and what would do.

    Example:
        >>> import tempfile
        >>> check_report_target(Path(tempfile.mkdtemp()) / "new" / "index.html", folder=False, what="--out")
    """
    kind = "a folder" if folder else "a file path such as reports/index.html"
    if not folder and (str(path) in ("", ".") or path.is_dir()):
        raise ConfigError(f"{what} {str(path)!r} is a folder; give {kind}.")
    if path.exists() and not (path.is_dir() if folder else path.is_file()):
        raise ConfigError(f"{what} {str(path)!r} exists and is not {'a folder' if folder else 'a regular file'}; "
                          f"give {kind}.")
    above = path.absolute().parent
    while not above.exists():
        above = above.parent
    if not above.is_dir() or not os.access(above, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {str(path)!r} cannot be written: {str(above)!r} is not a writable folder; "
                          f"give {kind} under a folder you can write.")


@dataclass(frozen=True)
class ExportOutcome:
    """What :func:`export_all` wrote and what it could not.

    Attributes:
        written: exporter name -> path of the file it wrote (a folder exporter's receipt).
        failed: exporter name -> why it failed (exception type and message).
        entry: the file a person opens first: the file of the first exporter written that
            declares ``entry`` (None when none did).
    """

    written: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    entry: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every requested exporter wrote its file."""
        return not self.failed


def export_all(
    report: ReportInput | RunRecord,
    names: Sequence[str],
    out_dir: Path,
    settings: Mapping[str, Any] | None = None,
) -> ExportOutcome:
    """Render ``report`` with each named exporter and write the files into ``out_dir``.

    Names are resolved before anything is written, so a typo stops the export as a whole. After
    that, an exporter that raises (a bad setting included) is recorded in ``failed`` and the
    others still run: a broken report never hides the rest. Each file is written atomically
    (temporary file, then rename); a ``folder`` exporter writes its folder inside ``out_dir``.

    Args:
        report: the run to export, with the stored parts its exporters need (a bare record
            renders without them).
        names: registry names of the exporters, e.g. ``["html", "markdown"]``.
        out_dir: the folder to write into; created when missing.
        settings: exporter name -> its settings object (its ``settings_type``) or a mapping of
            them; an exporter left out gets its defaults.

    Returns:
        The files written, the failures, and the entry file.

    Raises:
        NotFoundError: a name is not a registered exporter.
        ExporterError: ``out_dir`` cannot be created.

    Example:
        >>> import tempfile
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> outcome = export_all(record, ["json"], Path(tempfile.mkdtemp()))
        >>> outcome.written["json"].name, outcome.failed, outcome.entry
        ('run.json', {}, None)
    """
    exporters = [(name, get_exporter(name)) for name in dict.fromkeys(names)]
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExporterError(
            f"Could not create the report folder {str(out_dir)!r}: {exc}. Choose a writable folder for the reports."
        ) from exc
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for name, exporter in exporters:
        try:
            written[name] = _export_one(exporter, report, (settings or {}).get(name), out_dir)
        except Exception as exc:  # one broken exporter must not stop the others
            failed[name] = f"{type(exc).__name__}: {exc}"
            _log.warning("The %s exporter failed for run %s: %s", name, as_report_input(report).run_id, failed[name])
    entries = [written[name] for name, exporter in exporters if exporter.entry and name in written]
    return ExportOutcome(written=written, failed=failed, entry=entries[0] if entries else None)


def _export_one(exporter: Exporter, report: ReportInput | RunRecord, raw: Any, out_dir: Path) -> Path:
    """Render with one exporter (a folder exporter writes its folder inside ``out_dir``) and
    write its file."""
    text = exporter.render_report(as_report_input(report, raw), typed_settings(exporter, raw),
                                  out_dir if exporter.output == "folder" else None)
    return _write_atomic(out_dir / exporter.filename, text)


def report_input_for(store: Any, record: RunRecord, names: Sequence[str],
                     settings: Mapping[str, Any] | None = None) -> ReportInput:
    """The report input of ``record`` for the named exporters: the stored parts that any of
    them needs, read once (the history as long as the longest one asked for).

    Raises:
        NotFoundError: a name is not a registered exporter.
        ExporterError: a setting of an exporter that needs history is invalid.

    Example:
        report = report_input_for(store, record, ["html", "json"], {"html": {"history_runs": 20}})
    """
    exporters = [get_exporter(name) for name in dict.fromkeys(names)]
    needs = union_needs(exporters)
    query: HistoryQuery | None = None
    for exporter in exporters:
        if "history" in exporter.needs:
            asked = exporter.history_query(typed_settings(exporter, (settings or {}).get(exporter.name)))
            query = asked if query is None else HistoryQuery(max(query.runs, asked.runs), query.measure)
    return read_report_input(store, record, needs, history=query)


def export_report(store: Any, record: RunRecord, names: Sequence[str], out_dir: Path,
                  settings: Mapping[str, Any] | None = None) -> ExportOutcome:
    """Read what the named exporters need from the store once, then :func:`export_all`.

    A report input that cannot be read (a bad history setting) fails every exporter that needs
    the store and none of the others.

    Raises:
        NotFoundError: a name is not a registered exporter.
        ExporterError: ``out_dir`` cannot be created.

    Example:
        outcome = export_report(store, store.load_run("latest"), ["html", "json"], Path("reports/r1"))
    """
    try:
        report: ReportInput | RunRecord = report_input_for(store, record, names, settings)
    except ExporterError as exc:
        _log.warning("The report of run %s is rendered without the store: %s", record.run.id, exc)
        failing = [n for n in dict.fromkeys(names) if get_exporter(n).needs]
        outcome = export_all(record, [n for n in names if n not in failing], out_dir, settings)
        reason = f"{type(exc).__name__}: {exc}"
        return ExportOutcome(outcome.written, {**outcome.failed, **dict.fromkeys(failing, reason)}, outcome.entry)
    return export_all(report, names, out_dir, settings)


def report_settings(record: RunRecord, name: str, baseline: RunRecord | None = None) -> dict[str, Any]:
    """One exporter's settings for rendering a stored run again: the run's own, plus a baseline.

    The settings come from the run's stored config (``exporter.<name>``), so a report made
    later looks like the one made with the run; ``baseline`` is added under the ``baseline``
    key when given (an exporter folds it into its report input).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK,
        ...               config={"exporter": {"latex": {"mode": "fragment"}}})
        >>> report_settings(RunRecord(run, ()), "latex")
        {'mode': 'fragment'}
    """
    stored = record.run.config.get("exporter") or {}
    settings = dict(stored.get(name) or {}) if isinstance(stored, Mapping) else {}
    if baseline is not None:
        settings["baseline"] = baseline
    return settings


def with_baseline(
    settings: Mapping[str, Mapping[str, Any]] | None, names: Sequence[str], baseline: RunRecord
) -> dict[str, dict[str, Any]]:
    """Mapped ``settings`` with ``baseline`` added to each named exporter's (the older form of
    a report input's ``baseline``).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> base = RunRecord(RunInfo(id="b", started_at="", status=RunStatus.OK), ())
        >>> out = with_baseline({"html": {"title": "t"}}, ["html", "json"], base)
        >>> out["html"]["title"], out["json"]["baseline"].run.id
        ('t', 'b')
    """
    merged = {key: dict(value or {}) for key, value in (settings or {}).items()}
    for name in names:
        merged.setdefault(name, {})["baseline"] = baseline
    return merged


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so no reader sees half a report."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
