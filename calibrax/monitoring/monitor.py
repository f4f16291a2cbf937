"""Threshold rules over a measure's history, and the alert manager that dispatches alerts.

A rule is evaluated as a fold over the points of a series, in the init/update/compute form:
``init(rule)`` gives an empty state, ``update(rule, state, point, subject)`` takes one point
(a run's median of the measure), ``compute(state)`` is the alert raised at that point, if any.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from calibrax.core.checks import Alert, Severity, alert_id
from calibrax.core.errors import ConfigError
from calibrax.monitoring.sinks import AlertSink

__all__ = [
    "AlertManager",
    "Point",
    "Rule",
    "RuleState",
    "SinkFailure",
    "compute",
    "evaluate_rule",
    "init",
    "update",
]

log = logging.getLogger("calibrax")

Condition = Literal["above", "below", "increase", "decrease", "change"]
CONDITIONS = ("above", "below", "increase", "decrease", "change")
_WINDOWED = ("increase", "decrease", "change")


@dataclass(frozen=True)
class Rule:
    """A threshold rule on one stored measure over time.

    Attributes:
        name: the rule's name, in alerts.
        measure: the measure followed (``time``, ``throughput``, a quality metric).
        benchmark: the benchmark followed; None follows every benchmark in the store.
        params: only cases whose params include these items.
        condition: ``above`` / ``below``: the run's median is above / below ``threshold``;
            ``increase`` / ``decrease`` / ``change``: it rose / fell / moved by more than
            ``threshold`` (a fraction, 0.2 = 20%) against the median of the ``window``
            previous runs.
        threshold: the limit (in the measure's unit), or the relative change.
        window: how many previous runs the rolling median of a change spans.
        consecutive: violations in a row needed before the rule fires.
        cooldown: seconds (between the runs' start times) after firing during which the
            rule does not fire again for the same case.
        severity: info, warning, error or critical.

    Example:
        >>> Rule("slow", condition="increase", threshold=0.2, consecutive=3).window
        5
    """

    name: str
    measure: str = "time"
    benchmark: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    condition: Condition = "above"
    threshold: float = 0.0
    window: int = 5
    consecutive: int = 1
    cooldown: float = 0.0
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        where = f"Rule {self.name!r}"
        if self.condition not in CONDITIONS:
            raise ConfigError(f"{where}: condition must be one of {', '.join(CONDITIONS)}, got {self.condition!r}.")
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold)):
            raise ConfigError(f"{where}: threshold must be a finite number, got {self.threshold!r}.")
        if self.condition in _WINDOWED and self.threshold < 0:
            raise ConfigError(f"{where}: a {self.condition} threshold is a fraction >= 0 (0.2 = 20%), got {self.threshold!r}.")
        for key in ("window", "consecutive"):
            if not (isinstance(getattr(self, key), int) and getattr(self, key) >= 1):
                raise ConfigError(f"{where}: {key} must be a whole number >= 1, got {getattr(self, key)!r}.")
        if not (isinstance(self.cooldown, (int, float)) and self.cooldown >= 0):
            raise ConfigError(f"{where}: cooldown must be seconds >= 0, got {self.cooldown!r}.")
        try:
            object.__setattr__(self, "severity", Severity(self.severity))
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise ConfigError(f"{where}: severity must be one of {allowed}, got {self.severity!r}.") from None


class Point(NamedTuple):
    """One point of a series: a run's value of the measure at the run's start time."""

    at: str
    value: float
    run_id: str | None = None


class RuleState(NamedTuple):
    """What a rule remembers between points of one series."""

    window: tuple[float, ...] = ()  # the previous values, at most rule.window of them
    streak: int = 0  # violations in a row up to the latest point
    last_fired: float | None = None  # POSIX time of the point that last fired
    alert: Alert | None = None  # the alert raised at the latest point


def init(rule: Rule) -> RuleState:
    """The state of a rule before any point."""
    return RuleState()


def _check(rule: Rule, window: tuple[float, ...], value: float) -> tuple[bool, float | None, float]:
    """Whether ``value`` breaks the rule, the reference it was compared with, the change."""
    if not math.isfinite(value):
        return False, None, math.nan
    if rule.condition == "above":
        return value > rule.threshold, rule.threshold, math.nan
    if rule.condition == "below":
        return value < rule.threshold, rule.threshold, math.nan
    if len(window) < rule.window:
        return False, None, math.nan  # no full rolling window yet
    ref = statistics.median(window)
    change = (value - ref) / abs(ref) if ref else math.inf if value != ref else 0.0
    broken = {"increase": change > rule.threshold, "decrease": change < -rule.threshold}.get(
        rule.condition, abs(change) > rule.threshold
    )
    return broken, ref, change


def update(rule: Rule, state: RuleState, point: Point, subject: Mapping[str, Any]) -> RuleState:
    """Take one point; the new state's ``alert`` is set when the rule fires at this point."""
    broken, ref, change = _check(rule, state.window, point.value)
    window = (*state.window, point.value)[-rule.window:] if math.isfinite(point.value) else state.window
    streak = state.streak + 1 if broken else 0
    now = datetime.fromisoformat(point.at).timestamp()
    cooled = state.last_fired is None or now - state.last_fired >= rule.cooldown
    if streak < rule.consecutive or not cooled:
        return RuleState(window, streak, state.last_fired, None)
    return RuleState(window, streak, now, _alert(rule, point, subject, ref, change, streak))


def compute(state: RuleState) -> Alert | None:
    """The alert raised at the latest point, or None."""
    return state.alert


def _alert(rule: Rule, point: Point, subject: Mapping[str, Any], ref: float | None, change: float,
           streak: int) -> Alert:
    what = " ".join([str(subject.get("benchmark", "")), _params_text(subject.get("params") or {})]).strip()
    if rule.condition in ("above", "below"):
        detail = f"is {rule.condition} the threshold {rule.threshold:.4g}"
    else:
        detail = f"moved {change:+.1%} against the median {ref:.4g} of the previous {rule.window} run(s) " \
                 f"(limit {rule.condition} of {rule.threshold:.0%})"
    times = f", {streak} runs in a row" if rule.consecutive > 1 else ""
    run = f" in run {point.run_id}" if point.run_id else ""
    message = f"{what}: {rule.measure} {point.value:.4g}{run} {detail}{times}."
    details = {"condition": rule.condition, "streak": streak, "reference": ref,
               "change": None if math.isnan(change) else change}
    return Alert(alert_id(rule.name, subject, point.at), rule.name, rule.severity, message, point.at, dict(subject),
                 point.value, rule.threshold, point.run_id, details)


def _params_text(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def evaluate_rule(rule: Rule, points: Iterable[Point], subject: Mapping[str, Any]) -> list[Alert]:
    """Every alert a rule raises over a series, oldest first.

    Example:
        >>> rule = Rule("slow", condition="above", threshold=1.0, consecutive=2)
        >>> pts = [Point(f"2026-01-0{d}T00:00:00+00:00", v) for d, v in [(1, 0.5), (2, 2.0), (3, 2.0)]]
        >>> [a.at[:10] for a in evaluate_rule(rule, pts, {"benchmark": "mm"})]
        ['2026-01-03']
    """
    state, out = init(rule), []
    for point in points:
        state = update(rule, state, point, subject)
        alert = compute(state)
        if alert is not None:
            out.append(alert)
    return out


@dataclass(frozen=True)
class SinkFailure:
    """A sink that raised while sending an alert."""

    sink: str
    alert_id: str
    error: str


class AlertManager:
    """Keep a bounded history of alerts and send each to every sink, each sink isolated.

    A sink that raises is logged and recorded in :attr:`failures`; the other sinks still get
    the alert.

    Args:
        sinks: where alerts go.
        max_history: alerts (and failures) kept, the oldest dropped first.
        min_severity: alerts below this severity are kept in history but not sent.

    Example:
        >>> manager = AlertManager(max_history=2)
        >>> for i in range(3):
        ...     _ = manager.emit(Alert(f"a{i}", "r", Severity.INFO, "m", "t"))
        >>> [a.id for a in manager.history]
        ['a1', 'a2']
    """

    def __init__(self, sinks: Sequence[AlertSink] = (), *, max_history: int = 1000,
                 min_severity: Severity = Severity.INFO) -> None:
        if max_history < 1:
            raise ConfigError(f"max_history must be at least 1 alert, got {max_history!r}.")
        self._sinks = list(sinks)
        self._history: deque[Alert] = deque(maxlen=max_history)
        self._failures: deque[SinkFailure] = deque(maxlen=max_history)
        self.min_severity = Severity(min_severity)

    def add_sink(self, sink: AlertSink) -> None:
        """Send later alerts to ``sink`` too."""
        self._sinks.append(sink)

    @property
    def history(self) -> tuple[Alert, ...]:
        """The alerts emitted, oldest first (at most ``max_history``)."""
        return tuple(self._history)

    @property
    def failures(self) -> tuple[SinkFailure, ...]:
        """Deliveries that failed, oldest first."""
        return tuple(self._failures)

    def emit(self, alert: Alert) -> list[SinkFailure]:
        """Record ``alert`` and send it to every sink; return the sinks that failed."""
        self._history.append(alert)
        if Severity(alert.severity).rank < self.min_severity.rank:
            return []
        failed = []
        for sink in self._sinks:
            try:
                sink.send(alert)
            except Exception as exc:  # one broken sink must not silence the others
                failure = SinkFailure(getattr(sink, "name", type(sink).__name__), alert.id, f"{type(exc).__name__}: {exc}")
                log.warning("Alert sink %s failed on alert %s: %s", failure.sink, alert.id, failure.error)
                self._failures.append(failure)
                failed.append(failure)
        return failed
