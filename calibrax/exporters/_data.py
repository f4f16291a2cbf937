"""What a run's report shows from the store besides the run: its history, alerts and validation.

:func:`collect_report_data` reads the store once per report (one query for the history of every
case, not one per case) and returns a :class:`ReportData` record; the HTML exporter renders it
from its ``report_data`` setting and never opens the store itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calibrax.analysis import HistoryPoint
from calibrax.core import Alert, ExporterError, RunRecord, ValidationEntry

__all__ = ["ReportData", "collect_report_data", "report_data_setting", "with_report_data"]

DEFAULT_HISTORY_RUNS = 30
"""How many runs a case's history chart shows when the exporter's settings do not say."""


@dataclass(frozen=True)
class ReportData:
    """The stored context of a run that its HTML report shows.

    Attributes:
        history: case key (:attr:`~calibrax.core.CaseResult.key`) -> the case's median per run,
            oldest first, over the newest ``history_runs`` runs on the run's hardware (the run
            itself last).
        history_runs: the most runs a history holds.
        measure: the measure of the history.
        alerts: alerts raised by the run's results, then recent alerts about its benchmarks.
        validation: the run's validation checks, in the order stored.
        validation_gate: whether a failed check fails the run.

    Example:
        >>> ReportData().history
        {}
    """

    history: Mapping[str, tuple[HistoryPoint, ...]] = field(default_factory=dict)
    history_runs: int = DEFAULT_HISTORY_RUNS
    measure: str = "time"
    alerts: tuple[Alert, ...] = ()
    validation: tuple[ValidationEntry, ...] = ()
    validation_gate: bool = False


def collect_report_data(
    store: Any, record: RunRecord, *, history_runs: int = DEFAULT_HISTORY_RUNS, measure: str = "time",
    recent_alerts: int = 200,
) -> ReportData:
    """Read a stored run's history, alerts and validation for its report.

    Args:
        store: an open :class:`~calibrax.storage.Store` that holds ``record``'s run.
        record: the run reported on.
        history_runs: the most runs (on the run's hardware, up to the run) per history.
        measure: the measure whose medians make the history.
        recent_alerts: how many of the newest stored alerts are searched for ones about the
            run's benchmarks (alerts raised by the run itself are always included).

    Raises:
        ExporterError: ``history_runs`` is not a positive whole number.

    Example:
        data = collect_report_data(store, store.load_run("latest"), history_runs=20)
    """
    runs = _history_runs(history_runs)
    history: dict[str, list[HistoryPoint]] = defaultdict(list)
    wanted = {case.key for case in record.cases}
    for run_id, _, commit, benchmark, params_key, median in store.recent_medians(record.run.id, measure, limit=runs):
        key = f"{benchmark}{params_key}"
        if key in wanted and median is not None:
            history[key].append(HistoryPoint(str(run_id), float(median), commit))
    own = store.load_alerts(run_id=record.run.id)
    benchmarks = {case.benchmark for case in record.cases}
    seen = {a.id for a in own}
    about = [a for a in store.load_alerts(limit=recent_alerts)
             if a.id not in seen and a.subject.get("benchmark") in benchmarks]
    entries, gate = store.load_validation(record.run.id)
    return ReportData({k: tuple(v) for k, v in history.items()}, runs, measure, (*own, *about), tuple(entries), gate)


def with_report_data(store: Any, record: RunRecord, html_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The html exporter's settings with ``report_data`` read from the store, as its own
    ``history_runs`` and ``scaling_measure`` settings ask.

    Example:
        settings = with_report_data(store, record, {"history_runs": 20})
    """
    data = collect_report_data(store, record, history_runs=html_settings.get("history_runs", DEFAULT_HISTORY_RUNS),
                               measure=html_settings.get("scaling_measure") or "time")
    return {**html_settings, "report_data": data}


def _history_runs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExporterError(f"history_runs must be a whole number of runs >= 1, got {value!r}.")
    return value


def report_data_setting(settings: Mapping[str, Any]) -> ReportData | None:
    """The ``report_data`` setting of an exporter, checked.

    Raises:
        ExporterError: the setting is there but is not a :class:`ReportData`.

    Example:
        >>> report_data_setting({}) is None
        True
    """
    data = settings.get("report_data")
    if data is None or isinstance(data, ReportData):
        return data
    raise ExporterError(
        f"The report_data setting must be a ReportData (from collect_report_data), got {type(data).__name__}. "
        "Leave it out to render the run without its history, alerts and validation."
    )
