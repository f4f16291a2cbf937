"""Health of a recurring pipeline (a nightly benchmark job): failure rate and slowdown.

Executions are folded in the init/update/compute form; the health over the latest ``window``
executions is compared with the executions before them (the baseline).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from calibrax.core.checks import Alert, Severity, alert_id
from calibrax.core.errors import ConfigError
from calibrax.core.models import RunInfo, RunStatus

__all__ = [
    "Execution",
    "HealthPolicy",
    "HealthState",
    "PipelineHealth",
    "PipelineState",
    "executions_from_runs",
    "health_alerts",
    "pipeline_health",
]


class HealthState(str, Enum):
    """The health of a pipeline."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Execution:
    """One execution of a pipeline.

    Attributes:
        pipeline: the pipeline's name (a suite name, ``nightly``).
        started_at: ISO-8601 start time.
        duration: wall seconds it took.
        success: whether it ended well.
        run_id: the calibrax run it was, when it was one.
    """

    pipeline: str
    started_at: str
    duration: float
    success: bool
    run_id: str | None = None


@dataclass(frozen=True)
class HealthPolicy:
    """When a pipeline is degraded or critical.

    Attributes:
        window: the latest executions judged.
        baseline: how many executions before the window give the baseline duration.
        min_executions: fewer executions in the window give no verdict beyond healthy.
        degraded_failure_rate, critical_failure_rate: failed fraction of the window (0..1).
        degraded_slowdown, critical_slowdown: the window's median duration over the
            baseline's, minus 1 (0.25 = 25% slower).

    Example:
        >>> HealthPolicy().window
        10
    """

    window: int = 10
    baseline: int = 20
    min_executions: int = 3
    degraded_failure_rate: float = 0.2
    critical_failure_rate: float = 0.5
    degraded_slowdown: float = 0.25
    critical_slowdown: float = 1.0

    def __post_init__(self) -> None:
        for key in ("window", "baseline", "min_executions"):
            if not (isinstance(getattr(self, key), int) and getattr(self, key) >= 1):
                raise ConfigError(f"health.{key} must be a whole number >= 1, got {getattr(self, key)!r}.")
        if not 0 <= self.degraded_failure_rate <= self.critical_failure_rate <= 1:
            raise ConfigError(
                "health failure rates need 0 <= degraded_failure_rate <= critical_failure_rate <= 1, got "
                f"{self.degraded_failure_rate!r} and {self.critical_failure_rate!r}."
            )
        if not 0 <= self.degraded_slowdown <= self.critical_slowdown:
            raise ConfigError(
                "health slowdowns need 0 <= degraded_slowdown <= critical_slowdown, got "
                f"{self.degraded_slowdown!r} and {self.critical_slowdown!r}."
            )


@dataclass(frozen=True)
class PipelineHealth:
    """A pipeline's health over its latest executions.

    Attributes:
        pipeline: its name.
        state: healthy, degraded or critical.
        executions: executions in the window; failures: of which failed.
        failure_rate: failures / executions.
        duration: median duration of the window's successful executions (s).
        baseline_duration: median duration of the successful ones before the window (s).
        slowdown: duration / baseline_duration - 1, when both are known.
        last: the latest execution.
        reasons: why the state is not healthy, one sentence each.
    """

    pipeline: str
    state: HealthState
    executions: int
    failures: int
    failure_rate: float
    duration: float | None
    baseline_duration: float | None
    slowdown: float | None
    last: Execution | None
    reasons: tuple[str, ...] = ()


class PipelineState(NamedTuple):
    """The executions a pipeline's health is computed from, oldest first (bounded)."""

    executions: tuple[Execution, ...] = ()


def init(policy: HealthPolicy) -> PipelineState:
    """No executions yet."""
    return PipelineState()


def update(policy: HealthPolicy, state: PipelineState, execution: Execution) -> PipelineState:
    """Record one execution, keeping the window and its baseline."""
    return PipelineState((*state.executions, execution)[-(policy.window + policy.baseline):])


def _median_ok(executions: Iterable[Execution]) -> float | None:
    durations = [e.duration for e in executions if e.success]
    return statistics.median(durations) if durations else None


def compute(policy: HealthPolicy, state: PipelineState) -> PipelineHealth:
    """The health over the latest ``policy.window`` executions."""
    window = state.executions[-policy.window:]
    before = state.executions[: -policy.window] if len(state.executions) > policy.window else ()
    name = window[-1].pipeline if window else ""
    failures = sum(not e.success for e in window)
    rate = failures / len(window) if window else 0.0
    duration, base = _median_ok(window), _median_ok(before)
    slowdown = duration / base - 1 if duration is not None and base else None
    reasons: list[str] = []
    state_ = HealthState.HEALTHY
    if len(window) >= policy.min_executions:
        for level, max_rate, max_slow in ((HealthState.CRITICAL, policy.critical_failure_rate, policy.critical_slowdown),
                                          (HealthState.DEGRADED, policy.degraded_failure_rate, policy.degraded_slowdown)):
            if rate > max_rate:
                reasons.append(f"{failures} of the last {len(window)} executions failed ({rate:.0%}, "
                               f"{level.value} above {max_rate:.0%})")
            if slowdown is not None and slowdown > max_slow:
                reasons.append(f"the median duration {duration:.3g} s is {slowdown:+.0%} against the baseline "
                               f"{base:.3g} s ({level.value} above {max_slow:+.0%})")
            if reasons:
                state_ = level
                break
    return PipelineHealth(name, state_, len(window), failures, rate, duration, base, slowdown,
                          window[-1] if window else None, tuple(reasons))


def pipeline_health(executions: Iterable[Execution], policy: HealthPolicy | None = None) -> PipelineHealth:
    """The health of one pipeline from its executions in time order: compute(update(init(), ...)).

    Example:
        >>> runs = [Execution("nightly", f"2026-01-{d:02d}T00:00:00+00:00", 60.0, d < 8) for d in range(1, 11)]
        >>> h = pipeline_health(runs, HealthPolicy(window=5))
        >>> h.state.value, h.failures
        ('critical', 3)
    """
    policy = policy or HealthPolicy()
    state = init(policy)
    for execution in executions:
        state = update(policy, state, execution)
    return compute(policy, state)


_SEVERITY = {HealthState.DEGRADED: Severity.WARNING, HealthState.CRITICAL: Severity.CRITICAL}


def health_alerts(health: PipelineHealth, rule: str = "pipeline-health") -> list[Alert]:
    """The alert of an unhealthy pipeline (warning when degraded, critical when critical).

    Its id names the latest execution, so the same state is not alerted twice.
    """
    if health.state is HealthState.HEALTHY or health.last is None:
        return []
    subject = {"pipeline": health.pipeline}
    last = health.last
    message = f"Pipeline {health.pipeline} is {health.state.value}: " + "; ".join(health.reasons) + "."
    details: Mapping[str, Any] = {
        "state": health.state.value, "executions": health.executions, "failures": health.failures,
        "failure_rate": health.failure_rate, "duration": health.duration,
        "baseline_duration": health.baseline_duration, "slowdown": health.slowdown,
    }
    return [Alert(alert_id(rule, subject, last.started_at), rule, _SEVERITY[health.state], message,
                  last.started_at, subject, health.failure_rate, None, last.run_id, details)]


def executions_from_runs(runs: Sequence[RunInfo], pipeline: str | None = None) -> dict[str, list[Execution]]:
    """Stored runs as executions, oldest first, grouped by pipeline: the run config's suite name.

    Runs still running are left out; a run is a success when its status is ok.

    Args:
        runs: the runs, in any order.
        pipeline: keep only this pipeline.
    """
    out: dict[str, list[Execution]] = {}
    for run in sorted(runs, key=lambda r: r.started_at):
        if run.status is RunStatus.RUNNING:
            continue
        name = str((run.config.get("suite") or {}).get("name") or "calibrax-run")
        if pipeline is not None and name != pipeline:
            continue
        duration = 0.0
        if run.finished_at:
            duration = max(0.0, (datetime.fromisoformat(run.finished_at) - datetime.fromisoformat(run.started_at)).total_seconds())
        out.setdefault(name, []).append(Execution(name, run.started_at, duration, run.status is RunStatus.OK, run.id))
    return out
