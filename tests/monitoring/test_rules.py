"""Threshold rules folded over a series: conditions, consecutive violations, cool-down."""

from __future__ import annotations

import pytest

from calibrax.core import ConfigError, Severity
from calibrax.monitoring import Point, Rule, compute, evaluate_rule, init, update

SUBJECT = {"benchmark": "matmul", "params": {"n": 512}, "measure": "time"}


def points(values: list[float], hours: int = 1) -> list[Point]:
    return [Point(f"2026-01-01T{i * hours:02d}:00:00+00:00", v, f"run-{i}") for i, v in enumerate(values)]


def test_a_rule_needing_three_violations_fires_on_the_third_and_not_before() -> None:
    rule = Rule("slow", condition="above", threshold=1.0, consecutive=3, severity=Severity.CRITICAL)
    state = init(rule)
    fired = []
    for point in points([0.5, 2.0, 2.0, 2.0]):
        state = update(rule, state, point, SUBJECT)
        fired.append(compute(state))
    assert fired[:3] == [None, None, None]
    alert = fired[3]
    assert alert is not None and alert.run_id == "run-3" and alert.severity is Severity.CRITICAL
    assert alert.details["streak"] == 3 and "3 runs in a row" in alert.message
    assert alert.value == 2.0 and alert.threshold == 1.0 and alert.subject == SUBJECT


def test_a_good_point_resets_the_streak() -> None:
    rule = Rule("slow", condition="above", threshold=1.0, consecutive=3)
    assert evaluate_rule(rule, points([2.0, 2.0, 0.5, 2.0, 2.0]), SUBJECT) == []
    assert [a.run_id for a in evaluate_rule(rule, points([2.0, 2.0, 0.5, 2.0, 2.0, 2.0]), SUBJECT)] == ["run-5"]


def test_a_rule_keeps_firing_while_broken_unless_cooling_down() -> None:
    values = [2.0] * 6  # one point an hour
    assert len(evaluate_rule(Rule("r", threshold=1.0), points(values), SUBJECT)) == 6
    cooled = evaluate_rule(Rule("r", threshold=1.0, cooldown=3 * 3600), points(values), SUBJECT)
    assert [a.run_id for a in cooled] == ["run-0", "run-3"]


@pytest.mark.parametrize(
    "condition, threshold, values, fired_at",
    [
        ("above", 1.0, [0.5, 1.0, 1.5], [2]),
        ("below", 100.0, [150.0, 90.0, 100.0], [1]),
        ("increase", 0.2, [1.0, 1.0, 1.0, 1.1, 1.3], [4]),
        ("decrease", 0.2, [1.0, 1.0, 1.0, 1.3, 0.7], [4]),
        ("change", 0.2, [1.0, 1.0, 1.0, 0.7, 1.0, 1.3], [3, 5]),
        ("increase", 0.2, [1.0, 5.0], []),  # no full window yet
    ],
)
def test_conditions(condition: str, threshold: float, values: list[float], fired_at: list[int]) -> None:
    rule = Rule("r", condition=condition, threshold=threshold, window=2)  # type: ignore[arg-type]
    got = [a.run_id for a in evaluate_rule(rule, points(values), SUBJECT)]
    assert got == [f"run-{i}" for i in fired_at]


def test_a_change_is_measured_against_the_rolling_median() -> None:
    rule = Rule("r", condition="increase", threshold=0.2, window=3)
    (alert,) = evaluate_rule(rule, points([1.0, 1.0, 9.0, 1.5]), SUBJECT)
    assert alert.details["reference"] == 1.0 and alert.details["change"] == pytest.approx(0.5)
    assert "+50.0% against the median 1 of the previous 3 run(s)" in alert.message


def test_alert_ids_are_stable_across_evaluations() -> None:
    rule = Rule("slow", threshold=1.0)
    first = evaluate_rule(rule, points([2.0, 2.0]), SUBJECT)
    again = evaluate_rule(rule, points([2.0, 2.0]), SUBJECT)
    assert [a.id for a in first] == [a.id for a in again] and first[0].id != first[1].id


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"condition": "rises"}, "condition must be one of above, below, increase, decrease, change"),
        ({"threshold": float("nan")}, "threshold must be a finite number"),
        ({"condition": "change", "threshold": -0.1}, "fraction >= 0"),
        ({"window": 0}, "window must be a whole number >= 1"),
        ({"consecutive": 0}, "consecutive must be a whole number >= 1"),
        ({"cooldown": -1}, "cooldown must be seconds >= 0"),
        ({"severity": "fatal"}, "severity must be one of info, warning, error, critical"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=f"Rule 'r': .*{match}"):
        Rule("r", **kwargs)


def test_severity_is_read_from_its_name() -> None:
    assert Rule("r", severity="critical").severity is Severity.CRITICAL  # type: ignore[arg-type]
