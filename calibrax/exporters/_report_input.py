"""What an exporter renders: :class:`ReportInput`, one frozen record built once per export.

The run record always comes; the parts read from the store (the baseline run, each case's
history, alerts, validation checks) are read by :func:`read_report_input` only when an exporter
of the export declares it needs them (``Exporter.needs``), in one pass over the store. A part
that was not read is None, so a template can say "made without the store" rather than
"nothing stored". Exporters and templates render this record; they never open the store.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from calibrax.analysis import HistoryPoint
from calibrax.core import Alert, ExporterError, NotFoundError, RunRecord, ValidationEntry
from calibrax.storage import TrialValue

__all__ = [
    "DEFAULT_HISTORY_RUNS",
    "NEEDS",
    "HistoryQuery",
    "Need",
    "ReportData",
    "ReportInput",
    "collect_report_data",
    "read_report_input",
    "with_report_data",
]

_log = logging.getLogger("calibrax")

Need = Literal["baseline", "history", "alerts", "validation", "trials"]
NEEDS: frozenset[str] = frozenset({"baseline", "history", "alerts", "validation", "trials"})
"""What an exporter may declare in ``needs``: the stored parts of :class:`ReportInput`."""

DEFAULT_HISTORY_RUNS = 30
"""How many runs a case's history holds when no exporter asks otherwise."""


@dataclass(frozen=True)
class HistoryQuery:
    """Which history an exporter that needs ``history`` wants: the newest ``runs`` runs on the
    run's hardware (the run itself last), the medians of ``measure``."""

    runs: int = DEFAULT_HISTORY_RUNS
    measure: str = "time"


@dataclass(frozen=True)
class ReportInput:
    """Everything a report shows: the run, and the stored context its exporters asked for.

    Attributes:
        record: the run, its cases, and its verdicts and baseline names when it was checked.
        baseline: the run the verdicts compared with (None: not needed, not checked, or not
            stored).
        history: case key (:attr:`~calibrax.core.CaseResult.key`) -> the case's medians per
            run, oldest first; None when not read.
        history_runs, history_measure: what the history holds (see :class:`HistoryQuery`).
        alerts: alerts raised by the run, then recent alerts about its benchmarks; None when
            not read.
        validation: the run's validation checks in stored order; None when not read.
        validation_gate: whether a failed check fails the run.
        trials: the trial values of both sides of the run's interleaved gate (empty: not
            needed, or the run was not checked by an interleaved gate).
        trial_runs: the runs of ``history`` whose medians are an interleaved gate's trial
            medians (the linked baseline runs), which the history chart marks apart.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> report = ReportInput(RunRecord(RunInfo("r1", "", RunStatus.OK), ()))
        >>> report.run_id, report.history is None
        ('r1', True)
    """

    record: RunRecord
    baseline: RunRecord | None = None
    history: Mapping[str, tuple[HistoryPoint, ...]] | None = None
    history_runs: int = DEFAULT_HISTORY_RUNS
    history_measure: str = "time"
    alerts: tuple[Alert, ...] | None = None
    validation: tuple[ValidationEntry, ...] | None = None
    validation_gate: bool = False
    trials: tuple[TrialValue, ...] = ()
    trial_runs: frozenset[str] = frozenset()

    @property
    def run_id(self) -> str:
        """The reported run's id."""
        return self.record.run.id

    def stored_context(self) -> ReportData | None:
        """The history, alerts and validation as the HTML templates' ``report_data`` (None when
        none was read from the store)."""
        if self.history is None and self.alerts is None and self.validation is None:
            return None
        return ReportData(self.history or {}, self.history_runs, self.history_measure, self.alerts or (),
                          self.validation or (), self.validation_gate)


@dataclass(frozen=True)
class ReportData:
    """The stored context of a run as the HTML templates see it (``report_data``).

    Kept for templates and callers written before :class:`ReportInput`; ``measure`` is the
    history's measure.

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


def read_report_input(store: Any, record: RunRecord, needs: Iterable[str] = (), *,
                      history: HistoryQuery | None = None, recent_alerts: int = 200) -> ReportInput:
    """Build the report input of ``record``, reading from the store only the parts in ``needs``.

    Args:
        store: an open :class:`~calibrax.storage.Store` that holds ``record``'s run.
        record: the run reported on; its ``baseline["run_id"]`` names the baseline run.
        needs: the union of the exporters' ``needs`` (see :data:`NEEDS`).
        history: which history to read (default: 30 runs of ``time``).
        recent_alerts: how many of the newest stored alerts are searched for ones about the
            run's benchmarks (alerts raised by the run itself are always included).

    Raises:
        ExporterError: a need is not one of :data:`NEEDS`, or ``history.runs`` is not >= 1.

    Example:
        report = read_report_input(store, store.load_run("latest"), {"history"}, history=HistoryQuery(20))
    """
    wanted = set(needs)
    if wanted - NEEDS:
        raise ExporterError(f"Unknown report need {sorted(wanted - NEEDS)[0]!r}; exporters may need: "
                            f"{', '.join(sorted(NEEDS))}.")
    query = history or HistoryQuery()
    points = _history(store, record, query) if "history" in wanted else None
    alerts = _alerts(store, record, recent_alerts) if "alerts" in wanted else None
    entries, gate = store.load_validation(record.run.id) if "validation" in wanted else (None, False)
    trials = tuple(store.load_trials(record.run.id)) if "trials" in wanted else ()
    return ReportInput(record, _baseline(store, record) if "baseline" in wanted else None, points,
                       query.runs, query.measure, alerts, tuple(entries) if entries is not None else None, bool(gate),
                       trials, _trial_runs(store, points) if points else frozenset())


def _trial_runs(store: Any, points: Mapping[str, tuple[HistoryPoint, ...]]) -> frozenset[str]:
    """The runs of the history that hold an interleaved gate's baseline trial values."""
    ids = {p.run_id for found in points.values() for p in found}
    return frozenset(run_id for run_id, link in store.interleaved_links(sorted(ids)).items()
                     if run_id == link.baseline_run_id)


def _baseline(store: Any, record: RunRecord) -> RunRecord | None:
    run_id = record.baseline.get("run_id") or store.interleaved_baseline_of(record.run.id)
    if not run_id:
        return None
    try:
        baseline: RunRecord = store.load_run(str(run_id))
    except NotFoundError:
        _log.info("Baseline run %s is not stored; reports show this run's samples only.", run_id)
        return None
    return baseline


def _history(store: Any, record: RunRecord, query: HistoryQuery) -> dict[str, tuple[HistoryPoint, ...]]:
    """One query for the history of every case, not one per case."""
    runs = query.runs
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ExporterError(f"history_runs must be a whole number of runs >= 1, got {runs!r}.")
    found: dict[str, list[HistoryPoint]] = defaultdict(list)
    wanted = {case.key for case in record.cases}
    for run_id, _, commit, benchmark, params_key, median in store.recent_medians(record.run.id, query.measure,
                                                                               limit=runs):
        key = f"{benchmark}{params_key}"
        if key in wanted and median is not None:
            found[key].append(HistoryPoint(str(run_id), float(median), commit))
    return {key: tuple(points) for key, points in found.items()}


def _alerts(store: Any, record: RunRecord, recent: int) -> tuple[Alert, ...]:
    own = store.load_alerts(run_id=record.run.id)
    benchmarks = {case.benchmark for case in record.cases}
    seen = {a.id for a in own}
    about = [a for a in store.load_alerts(limit=recent) if a.id not in seen and a.subject.get("benchmark") in benchmarks]
    return (*own, *about)


def collect_report_data(store: Any, record: RunRecord, *, history_runs: int = DEFAULT_HISTORY_RUNS,
                        measure: str = "time", recent_alerts: int = 200) -> ReportData:
    """Read a stored run's history, alerts and validation (the older form of
    :func:`read_report_input`, kept for its callers).

    Example:
        data = collect_report_data(store, store.load_run("latest"), history_runs=20)
    """
    report = read_report_input(store, record, {"history", "alerts", "validation"},
                               history=HistoryQuery(history_runs, measure), recent_alerts=recent_alerts)
    data = report.stored_context()
    assert data is not None  # all three parts were read
    return data


def with_report_data(store: Any, record: RunRecord, html_settings: Mapping[str, Any]) -> dict[str, Any]:
    """Legacy settings mapping: ``html_settings`` with ``report_data`` read from the store.

    Prefer :func:`~calibrax.exporters.report_input_for`, which reads what the exporter declares.

    Example:
        settings = with_report_data(store, record, {"history_runs": 20})
    """
    data = collect_report_data(store, record, history_runs=html_settings.get("history_runs", DEFAULT_HISTORY_RUNS),
                               measure=html_settings.get("scaling_measure") or "time")
    return {**html_settings, "report_data": data}
