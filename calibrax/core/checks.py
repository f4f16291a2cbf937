"""Records of checks made on stored results: alerts (monitoring) and validation entries.

Monitoring and validation produce them, storage keeps them, reports and the CLI render them.
Like the other core records they are frozen and hold only plain values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Alert",
    "Severity",
    "ValidationEntry",
    "alert_from_dict",
    "alert_id",
    "alert_to_dict",
]


class Severity(str, Enum):
    """How urgent an alert is, from ``info`` to ``critical``.

    Example:
        >>> Severity.CRITICAL.rank > Severity.WARNING.rank
        True
    """

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical: severities compare by rank."""
        return _RANKS[self.value]


_RANKS = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def alert_id(rule: str, subject: Mapping[str, Any], at: str) -> str:
    """A stable id for the alert a rule raises on a subject at a point in time.

    Evaluating the same history twice gives the same ids, so a stored alert is not raised again.

    Example:
        >>> alert_id("slow", {"benchmark": "matmul"}, "2026-01-01T00:00:00+00:00")
        'c8cfc23cf2eb64f5'
    """
    key = json.dumps([rule, dict(subject), at], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Alert:
    """One alert raised by a monitoring rule or a pipeline health check.

    Attributes:
        id: stable id (see :func:`alert_id`); the store keeps one alert per id.
        rule: the name of the rule that raised it.
        severity: info, warning, error or critical.
        message: a full sentence for people.
        at: ISO-8601 time of the data point that raised it (a run's start time).
        subject: what it is about, e.g. ``{"benchmark", "params", "measure"}`` or ``{"pipeline"}``.
        value: the value that broke the rule, when there is one.
        threshold: the limit it was compared with.
        run_id: the run whose result raised it, when there is one.
        details: further figures (the rolling-window reference, the streak length).
    """

    id: str
    rule: str
    severity: Severity
    message: str
    at: str
    subject: Mapping[str, Any] = field(default_factory=dict)
    value: float | None = None
    threshold: float | None = None
    run_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """An alert as JSON-ready data (the body a webhook receives, a line of a JSONL sink).

    Example:
        >>> alert_to_dict(Alert("a1", "slow", Severity.ERROR, "Slower.", "t0"))["severity"]
        'error'
    """
    return {
        "id": alert.id,
        "rule": alert.rule,
        "severity": Severity(alert.severity).value,
        "message": alert.message,
        "at": alert.at,
        "subject": dict(alert.subject),
        "value": alert.value,
        "threshold": alert.threshold,
        "run_id": alert.run_id,
        "details": dict(alert.details),
    }


def alert_from_dict(data: Mapping[str, Any]) -> Alert:
    """Rebuild an alert from :func:`alert_to_dict` output.

    Example:
        >>> a = Alert("a1", "slow", Severity.ERROR, "Slower.", "t0", {"benchmark": "mm"}, 2.0, 1.0)
        >>> alert_from_dict(alert_to_dict(a)) == a
        True
    """
    return Alert(
        id=data["id"],
        rule=data["rule"],
        severity=Severity(data["severity"]),
        message=data["message"],
        at=data["at"],
        subject=dict(data.get("subject") or {}),
        value=data.get("value"),
        threshold=data.get("threshold"),
        run_id=data.get("run_id"),
        details=dict(data.get("details") or {}),
    )


@dataclass(frozen=True)
class ValidationEntry:
    """One validation check of a run, as stored: what was checked and whether it passed.

    Attributes:
        kind: ``accuracy`` (a value against a reference), ``error`` (outputs against a
            reference computation) or ``convergence`` (a loss or metric series).
        name: what was checked (a benchmark and metric, a series name).
        passed: False when the check is a violation.
        message: a full sentence giving the outcome and the figures behind it.
        figures: the numbers of the check (errors, steps, rate), JSON-ready.
    """

    kind: str
    name: str
    passed: bool
    message: str
    figures: Mapping[str, Any] = field(default_factory=dict)
