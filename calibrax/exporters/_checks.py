"""The alerts and validation checks of a run as report rows (the ``_checks.html.j2`` section)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.core import Alert, ValidationEntry, canonical_params
from calibrax.exporters._numbers import MISSING, format_value

__all__ = ["AlertView", "ValidationView", "alert_views", "validation_views"]


@dataclass(frozen=True)
class AlertView:
    """An alert as a report row.

    Attributes:
        alert: the record.
        subject: what it is about, as ``key=value`` text.
        value, threshold: the figures with the subject measure's unit when known.
        own: True when the reported run's results raised it.
    """

    alert: Alert
    subject: str
    value: str
    threshold: str
    own: bool

    @property
    def severity(self) -> str:
        """The severity as text (``info`` to ``critical``)."""
        return self.alert.severity.value


def alert_views(alerts: Sequence[Alert], run_id: str) -> list[AlertView]:
    """Rows for the alerts, most severe first, then newest first.

    Example:
        >>> alert_views([], "r1")
        []
    """
    newest_first = sorted(alerts, key=lambda a: a.at, reverse=True)
    rows = []
    for alert in sorted(newest_first, key=lambda a: -a.severity.rank):
        unit = str(alert.subject.get("unit") or "")
        rows.append(AlertView(alert, _subject(alert.subject), _figure(alert.value, unit),
                              _figure(alert.threshold, unit), alert.run_id == run_id))
    return rows


def _subject(subject: Mapping[str, Any]) -> str:
    parts = []
    for key, value in subject.items():
        text = canonical_params(value) if isinstance(value, Mapping) else str(value)
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return MISSING
    return format_value(value, unit) if unit else format_value(value, "1")


@dataclass(frozen=True)
class ValidationView:
    """A validation check as a report row; ``figures`` is its numbers as ``key=value`` text."""

    entry: ValidationEntry
    figures: str

    @property
    def outcome(self) -> str:
        """``passed`` or ``failed``."""
        return "passed" if self.entry.passed else "failed"


def validation_views(entries: Sequence[ValidationEntry]) -> list[ValidationView]:
    """Rows for the validation checks: failed ones first, each group in stored order.

    Example:
        >>> [v.outcome for v in validation_views([ValidationEntry("accuracy", "a", True, "ok"),
        ...                                        ValidationEntry("accuracy", "b", False, "off")])]
        ['failed', 'passed']
    """
    ordered = [e for e in entries if not e.passed] + [e for e in entries if e.passed]
    return [ValidationView(e, ", ".join(f"{k}={_short(v)}" for k, v in e.figures.items())) for e in ordered]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"[{len(value)} values]"
    return str(value)
