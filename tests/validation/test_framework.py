"""The validation report of a run gathers checks, lists violations, and gates when told to."""

from __future__ import annotations

from calibrax.core import ValidationEntry
from calibrax.validation import (
    ConvergenceCriteria,
    check_accuracy,
    check_convergence,
    compare_outputs,
    entry_from_dict,
    entry_to_dict,
    validation_report,
)


def _results() -> list:
    return [
        check_accuracy(0.91, 0.9, name="acc", better="higher", margin=0.01),
        compare_outputs([1.0, 2.0], [1.0, 2.0], name="identity"),
        check_convergence([1.0, float("nan")], ConvergenceCriteria((1e-3,)), name="loss"),
    ]


def test_a_report_lists_its_violations() -> None:
    report = validation_report("r1", _results())
    assert [e.kind for e in report.entries] == ["accuracy", "error", "convergence"]
    assert [e.name for e in report.violations] == ["loss"]
    assert not report.passed and not report.failed  # not gating: reported only
    assert report.counts() == {"accuracy": 1, "error": 1, "convergence": 1, "violations": 1}
    assert report.lines()[-1] == "Validation: 3 check(s), 1 violation(s): reported, not gating."
    assert report.lines()[2].startswith("FAIL convergence")


def test_a_gating_report_fails_only_on_a_violation() -> None:
    assert validation_report("r1", _results(), gate=True).failed
    passing = validation_report("r1", _results()[:2], gate=True)
    assert passing.passed and not passing.failed and passing.lines()[-1].endswith("passed.")


def test_entries_round_trip_through_json() -> None:
    report = validation_report("r1", _results())
    data = report.to_dict()
    assert data["failed"] is False and data["passed"] is False
    assert [entry_from_dict(e) for e in data["entries"]] == list(report.entries)
    entry = ValidationEntry("accuracy", "x", True, "ok", {"a": 1.0})
    assert entry_from_dict(entry_to_dict(entry)) == entry
