"""The exporter protocol: what an exporter declares, and the one method it implements.

An exporter declares, as class attributes, everything the code around it needs to know, so no
code special-cases an exporter by name:

- ``name``: its registry name (configs, ``calibrax report --format``);
- ``output``: ``"file"`` (it returns the text of one file, ``filename``) or ``"folder"`` (it
  writes a folder of files and returns the text of ``filename``, its receipt);
- ``filename``: the file written into the report folder;
- ``needs``: the stored parts of :class:`~calibrax.exporters.ReportInput` it shows
  (``baseline``, ``history``, ``alerts``, ``validation``, ``trials``: an interleaved gate's trial
  medians), read only when some exporter needs them;
- ``entry``: True when its file is the page a person opens first (printed as ``Report: ...``);
- ``renders_sweeps``: True when it also renders a whole sweep (``render_sweep``: one page, or
  for a ``folder`` exporter its files and a receipt); the end of a ``-m`` sweep and
  ``calibrax report --sweep`` use the first selected one;
- ``settings_type``: the dataclass of its settings (see :mod:`calibrax.exporters._settings`).

It implements ``render_report(report, settings, folder)`` (and ``render_sweep`` when it renders
sweeps, ``history_query`` when it needs history). :class:`BaseExporter` supplies the rest:
``render`` (the same, accepting a bare record and a mapping of settings, as older callers
pass) and the defaults of every declaration.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from calibrax.core import ExporterError, RunRecord
from calibrax.exporters._report_input import NEEDS, HistoryQuery, ReportData, ReportInput
from calibrax.exporters._settings import NoSettings, settings_from_mapping

__all__ = ["BaseExporter", "Exporter", "OutputKind", "as_report_input", "typed_settings", "typed_settings_of", "union_needs"]

OutputKind = Literal["file", "folder"]
S = TypeVar("S")


@runtime_checkable
class Exporter(Protocol):
    """Renders a :class:`~calibrax.exporters.ReportInput` as one file (or a folder and its receipt).

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> class Plain(BaseExporter[NoSettings]):
        ...     name, filename = "plain", "run.txt"
        ...     def render_report(self, report, settings, folder=None):
        ...         return report.record.run.id
        >>> isinstance(Plain(), Exporter), Plain().render(RunRecord(RunInfo("r1", "", RunStatus.OK), ()))
        (True, 'r1')
    """

    name: str
    filename: str
    output: OutputKind
    needs: frozenset[str]
    entry: bool
    renders_sweeps: bool
    settings_type: type[Any]

    def render_report(self, report: ReportInput, settings: Any, folder: Path | None = None) -> str:
        """Return the file's text; a ``folder`` exporter writes its files into ``folder`` first
        (the current folder when None)."""
        ...

    def history_query(self, settings: Any) -> HistoryQuery:
        """Which history to read when ``history`` is in ``needs``."""
        ...

    def render(self, record: ReportInput | RunRecord, settings: Any = None, folder: Path | None = None) -> str:
        """:meth:`render_report` for a bare record or typed or mapped settings (see :class:`BaseExporter`)."""
        ...

    def render_sweep(self, sweep_id: str, records: Sequence[RunRecord], settings: Any = None,
                     axes: Sequence[str] | None = None, folder: Path | None = None) -> str:
        """The page of a whole sweep (its member runs in the order they ran), when ``renders_sweeps``;
        a ``folder`` exporter writes its files into ``folder`` and returns its receipt."""
        ...


class BaseExporter(ABC, Generic[S]):
    """Defaults for an exporter: one file, needs nothing, no settings, not an entry page.

    Subclasses set ``name`` and ``filename`` and implement :meth:`render_report` (abstract:
    a subclass without it cannot be instantiated, so it cannot be registered half-made).
    """

    name: str = "base"
    filename: str = "report.txt"
    output: OutputKind = "file"
    needs: frozenset[str] = frozenset()
    entry: bool = False
    renders_sweeps: bool = False
    settings_type: type[Any] = NoSettings

    @abstractmethod
    def render_report(self, report: ReportInput, settings: S, folder: Path | None = None) -> str:
        """The text of the exporter's file (for a folder exporter, a JSON receipt of what it wrote)."""

    def history_query(self, settings: S) -> HistoryQuery:
        """The default history: 30 runs of ``time``."""
        return HistoryQuery()

    def render_sweep(self, sweep_id: str, records: Sequence[RunRecord], settings: Any = None,
                     axes: Sequence[str] | None = None, folder: Path | None = None) -> str:
        """Raises ExporterError: only exporters that declare ``renders_sweeps`` render a sweep."""
        raise ExporterError(f"The {self.name} exporter does not render a whole sweep (renders_sweeps is False).")

    def render(self, record: ReportInput | RunRecord, settings: S | Mapping[str, Any] | None = None,
               folder: Path | None = None) -> str:
        """:meth:`render_report` for a record or a report input and typed or mapped settings.

        A mapping may carry ``baseline`` (a :class:`~calibrax.core.RunRecord`) and ``report_data``
        (a :class:`~calibrax.exporters.ReportData`), as the settings of older callers did; they go
        into the report input.

        Raises:
            ExporterError: a setting is unknown or invalid, or ``baseline``/``report_data`` has
                the wrong type.
        """
        report, typed = as_report_input(record, settings), typed_settings(self, settings)
        return self.render_report(report, typed, folder)


def typed_settings(exporter: Exporter, settings: Any) -> Any:
    """``settings`` as the exporter's ``settings_type`` (see :func:`typed_settings_of`).

    Example:
        >>> from calibrax.exporters import get_exporter
        >>> typed_settings(get_exporter("junit"), {"suite_name": "ci"}).suite_name
        'ci'
    """
    return typed_settings_of(exporter.settings_type, exporter.name, settings)


_REPORT_KEYS = ("baseline", "report_data")  # parts of the report input that older callers passed as settings


def typed_settings_of(kind: type[S], exporter: str, settings: Any, ignore: Sequence[str] = _REPORT_KEYS) -> S:
    """``settings`` as a checked ``kind``: a mapping is converted over the defaults (its
    ``ignore`` keys left out), an object of ``kind`` copied, None gives the defaults.

    Raises:
        ExporterError: an unknown key, a value out of range, or an object of another type.

    Example:
        >>> from calibrax.exporters import LatexSettings
        >>> typed_settings_of(LatexSettings, "latex", {"mode": "fragment"}).mode
        'fragment'
    """
    if kind is dict:  # an exporter that takes its settings as the mapping the config gives
        return {k: v for k, v in (settings or {}).items() if k not in ignore}  # type: ignore[return-value]
    if settings is None or isinstance(settings, Mapping):
        values = {k: v for k, v in (settings or {}).items() if k not in ignore}
        typed = settings_from_mapping(kind, values, exporter)
    elif isinstance(settings, kind):
        typed = dataclasses.replace(settings)  # type: ignore[type-var]
    else:
        raise ExporterError(f"The {exporter} exporter's settings must be a {kind.__name__} or a mapping, "
                            f"got {type(settings).__name__}.")
    check = getattr(typed, "check", None)
    return check() if callable(check) else typed


def as_report_input(record: ReportInput | RunRecord, settings: Any = None) -> ReportInput:
    """A report input from a record (or the input itself), with a mapping's ``baseline`` and
    ``report_data`` entries folded in.

    Raises:
        ExporterError: ``record`` is neither, or the two entries have the wrong types.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> as_report_input(RunRecord(RunInfo("r1", "", RunStatus.OK), ())).baseline is None
        True
    """
    if isinstance(record, ReportInput):
        report = record
    elif isinstance(record, RunRecord):
        report = ReportInput(record)
    else:
        raise ExporterError(f"An exporter renders a RunRecord or a ReportInput, got {type(record).__name__}.")
    if not isinstance(settings, Mapping):
        return report
    baseline, data = settings.get("baseline"), settings.get("report_data")
    if baseline is not None and not isinstance(baseline, RunRecord):
        raise ExporterError(f"The baseline setting must be the baseline run's RunRecord, got {type(baseline).__name__}. "
                            "Leave it out to draw this run's samples alone.")
    if data is not None and not isinstance(data, ReportData):
        raise ExporterError(f"The report_data setting must be a ReportData (from collect_report_data), got "
                            f"{type(data).__name__}. Leave it out to render the run without its history, alerts "
                            "and validation.")
    if baseline is not None:
        report = dataclasses.replace(report, baseline=baseline)
    if data is not None:
        report = dataclasses.replace(report, history=data.history, history_runs=data.history_runs,
                                     history_measure=data.measure, alerts=tuple(data.alerts),
                                     validation=tuple(data.validation), validation_gate=data.validation_gate)
    return report


def union_needs(exporters: Sequence[Exporter]) -> frozenset[str]:
    """Every need of the exporters, checked against :data:`NEEDS`.

    Raises:
        ExporterError: an exporter declares a need that is not one of :data:`NEEDS`.
    """
    needs: set[str] = set()
    for exporter in exporters:
        unknown = set(exporter.needs) - NEEDS
        if unknown:
            raise ExporterError(f"The {exporter.name} exporter declares an unknown need {sorted(unknown)[0]!r}; "
                                f"exporters may need: {', '.join(sorted(NEEDS))}.")
        needs.update(exporter.needs)
    return frozenset(needs)
