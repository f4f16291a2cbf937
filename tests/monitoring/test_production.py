"""Pipeline health: failure rate and slowdown against a baseline, from executions or stored runs."""

from __future__ import annotations

import pytest

from calibrax.core import ConfigError, RunInfo, RunStatus, Severity
from calibrax.monitoring import (
    Execution,
    HealthPolicy,
    HealthState,
    executions_from_runs,
    health_alerts,
    pipeline_health,
)

POLICY = HealthPolicy(window=5, baseline=10, min_executions=3)


def history(durations: list[float], failed: set[int] = frozenset()) -> list[Execution]:  # type: ignore[assignment]
    return [Execution("nightly", f"2026-01-{i + 1:02d}T02:00:00+00:00", d, i not in failed, f"run-{i}")
            for i, d in enumerate(durations)]


def test_a_steady_pipeline_is_healthy() -> None:
    health = pipeline_health(history([60.0] * 15), POLICY)
    assert health.state is HealthState.HEALTHY and health.reasons == ()
    assert (health.executions, health.failures, health.slowdown) == (5, 0, 0.0)
    assert health_alerts(health) == []


@pytest.mark.parametrize(
    "durations, failed, state, reason",
    [
        ([60.0] * 10 + [80.0] * 5, set(), HealthState.DEGRADED, "+33% against the baseline 60 s"),
        ([60.0] * 10 + [130.0] * 5, set(), HealthState.CRITICAL, "+117% against the baseline 60 s"),
        ([60.0] * 15, {12, 14}, HealthState.DEGRADED, "2 of the last 5 executions failed (40%"),
        ([60.0] * 15, {11, 12, 14}, HealthState.CRITICAL, "3 of the last 5 executions failed (60%, critical"),
    ],
)
def test_failure_rate_and_slowdown_decide_the_state(durations: list[float], failed: set[int], state: HealthState,
                                                     reason: str) -> None:
    health = pipeline_health(history(durations, failed), POLICY)
    assert health.state is state
    assert any(reason in r for r in health.reasons), health.reasons
    (alert,) = health_alerts(health)
    assert alert.severity is (Severity.CRITICAL if state is HealthState.CRITICAL else Severity.WARNING)
    assert alert.run_id == "run-14" and alert.subject == {"pipeline": "nightly"}
    assert alert.message.startswith(f"Pipeline nightly is {state.value}: ")


def test_too_few_executions_give_no_verdict() -> None:
    health = pipeline_health(history([60.0, 60.0], {0, 1}), POLICY)
    assert health.state is HealthState.HEALTHY and health.failure_rate == 1.0


def test_no_baseline_means_no_slowdown() -> None:
    health = pipeline_health(history([60.0, 600.0, 600.0]), POLICY)
    assert health.baseline_duration is None and health.slowdown is None and health.state is HealthState.HEALTHY


def test_stored_runs_become_executions_per_suite() -> None:
    def run(i: int, status: RunStatus, suite: str, finished: str | None) -> RunInfo:
        return RunInfo(f"r{i}", f"2026-01-0{i}T00:00:00+00:00", status, config={"suite": {"name": suite}},
                       finished_at=finished)

    runs = [run(3, RunStatus.FAILED, "nightly", "2026-01-03T00:02:00+00:00"),
            run(1, RunStatus.OK, "nightly", "2026-01-01T00:01:30+00:00"),
            run(2, RunStatus.OK, "quick", "2026-01-02T00:00:10+00:00"),
            run(4, RunStatus.RUNNING, "nightly", None),
            run(5, RunStatus.INTERRUPTED, "nightly", None)]
    grouped = executions_from_runs(runs)
    assert [(e.run_id, e.duration, e.success) for e in grouped["nightly"]] == [
        ("r1", 90.0, True), ("r3", 120.0, False), ("r5", 0.0, False)]
    assert list(executions_from_runs(runs, "quick")) == ["quick"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": 0}, "health.window must be a whole number >= 1"),
        ({"degraded_failure_rate": 0.6, "critical_failure_rate": 0.5}, "degraded_failure_rate <= critical_failure_rate"),
        ({"degraded_slowdown": -0.1}, "0 <= degraded_slowdown <= critical_slowdown"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        HealthPolicy(**kwargs)
