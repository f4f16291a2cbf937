"""The validation report of a run: every accuracy, error and convergence check, with violations.

A report gates (fails the run, exit 1) only when its config says so; otherwise violations are
reported and stored but the verdict is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from calibrax.core.checks import ValidationEntry

__all__ = ["Checked", "ValidationReport", "validation_report"]


class Checked(Protocol):
    """Anything a validation check returns: it can become a stored entry."""

    def to_entry(self) -> ValidationEntry:
        """The result as a :class:`ValidationEntry`."""
        ...


@dataclass(frozen=True)
class ValidationReport:
    """The validation checks of one run.

    Attributes:
        run_id: the run checked.
        entries: every check, in the order made.
        gate: whether a violation fails the run.

    Example:
        >>> ok = ValidationEntry("accuracy", "acc", True, "fine")
        >>> bad = ValidationEntry("convergence", "loss", False, "diverged")
        >>> report = ValidationReport("r1", (ok, bad), gate=True)
        >>> [e.name for e in report.violations], report.failed
        (['loss'], True)
    """

    run_id: str
    entries: tuple[ValidationEntry, ...]
    gate: bool = False

    @property
    def violations(self) -> tuple[ValidationEntry, ...]:
        """The checks that did not pass."""
        return tuple(e for e in self.entries if not e.passed)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return not self.violations

    @property
    def failed(self) -> bool:
        """True when a violation fails the run: the report gates and a check did not pass."""
        return self.gate and not self.passed

    def counts(self) -> dict[str, int]:
        """Checks per kind and the number of violations."""
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.kind] = out.get(e.kind, 0) + 1
        out["violations"] = len(self.violations)
        return out

    def lines(self) -> list[str]:
        """One line per check for people, violations marked, then a summary line."""
        out = [f"{'ok  ' if e.passed else 'FAIL'} {e.kind:<11} {e.message}" for e in self.entries]
        n = len(self.violations)
        state = "passed" if not n else ("fails the run" if self.gate else "reported, not gating")
        out.append(f"Validation: {len(self.entries)} check(s), {n} violation(s): {state}.")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "run_id": self.run_id,
            "gate": self.gate,
            "passed": self.passed,
            "failed": self.failed,
            "entries": [entry_to_dict(e) for e in self.entries],
        }


def entry_to_dict(entry: ValidationEntry) -> dict[str, Any]:
    """One entry as JSON-ready data."""
    return {"kind": entry.kind, "name": entry.name, "passed": entry.passed, "message": entry.message,
            "figures": dict(entry.figures)}


def entry_from_dict(data: Mapping[str, Any]) -> ValidationEntry:
    """Rebuild an entry from :func:`entry_to_dict` output."""
    return ValidationEntry(data["kind"], data["name"], bool(data["passed"]), data["message"],
                           dict(data.get("figures") or {}))


def validation_report(run_id: str, results: Iterable[Checked | ValidationEntry], *, gate: bool = False) -> ValidationReport:
    """Gather check results (accuracy, error figures, convergence) into a run's report.

    Example:
        >>> from calibrax.validation import check_accuracy
        >>> r = validation_report("r1", [check_accuracy(0.5, 0.9, name="acc", better="higher")])
        >>> r.passed, r.failed
        (False, False)
    """
    entries = tuple(r if isinstance(r, ValidationEntry) else r.to_entry() for r in results)
    return ValidationReport(run_id, entries, gate)


__all__ += ["entry_from_dict", "entry_to_dict"]
