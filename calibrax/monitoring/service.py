"""Monitoring a store: rules and pipeline health from a YAML file, evaluated over the history.

``monitor_store`` replays every rule over every matching case's history and the health of each
pipeline over its runs, keeps the alerts in the store (one per id, so each is raised once)
with a pending delivery per sink, and delivers them (``calibrax.monitoring.outbox``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from calibrax.core.checks import Alert, Severity
from calibrax.core.errors import ConfigError
from calibrax.core.models import canonical_params
from calibrax.core.registry import unknown_name_message
from calibrax.monitoring.monitor import Point, Rule, SinkFailure, evaluate_rule
from calibrax.monitoring.outbox import deliver_pending
from calibrax.monitoring.production import (
    HealthPolicy,
    PipelineHealth,
    executions_from_runs,
    health_alerts,
    pipeline_health,
)
from calibrax.monitoring.sinks import AlertSink, sink_from_config
from calibrax.storage import Store

__all__ = ["MonitorConfig", "MonitorReport", "load_monitor_config", "monitor_config", "monitor_store", "retry_deliveries"]


@dataclass(frozen=True)
class MonitorConfig:
    """What ``calibrax monitor`` checks and where it sends alerts.

    Attributes:
        rules: threshold rules on stored measures.
        health: the pipeline health policy; None checks no pipeline health.
        pipeline: only this pipeline (a suite name); None checks every one.
        sinks: where new alerts go (each a sink config, see ``sink_from_config``).
    """

    rules: tuple[Rule, ...] = ()
    health: HealthPolicy | None = None
    pipeline: str | None = None
    sinks: tuple[AlertSink, ...] = ()


_TOP = ("rules", "health", "pipeline", "sinks")


def monitor_config(data: Mapping[str, Any] | None, where: str = "monitor config") -> MonitorConfig:
    """Build a MonitorConfig from parsed YAML, checking every key.

    Raises:
        ConfigError: an unknown key, a rule without a name, a bad value; the message names
            ``where`` and the key.

    Example:
        >>> cfg = monitor_config({"rules": [{"name": "slow", "condition": "increase", "threshold": 0.2}]})
        >>> cfg.rules[0].condition, cfg.health
        ('increase', None)
    """
    data = dict(data or {})
    for key in data:
        if key not in _TOP:
            raise ConfigError(f"{where}: " + unknown_name_message("key", key, list(_TOP)))
    rules_data = data.get("rules") or []
    if not isinstance(rules_data, list):
        raise ConfigError(f"{where}: rules must be a list of rules, got {type(rules_data).__name__}.")
    rules = tuple(_rule(item, f"{where}: rules[{i}]") for i, item in enumerate(rules_data))
    names = [r.name for r in rules]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{where}: rule names must be unique; {', '.join(dup)} appear more than once.")
    health = None
    if data.get("health") is not None:
        health = _build(HealthPolicy, data["health"], f"{where}: health")
    sinks_data = data.get("sinks") or []
    if not isinstance(sinks_data, list):
        raise ConfigError(f"{where}: sinks must be a list, e.g. [{{type: log}}], got {sinks_data!r}.")
    sinks = tuple(sink_from_config(s, f"{where}: sinks[{i}]") for i, s in enumerate(sinks_data))
    pipeline = data.get("pipeline")
    return MonitorConfig(rules, health, None if pipeline is None else str(pipeline), sinks)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, Mapping) or not item.get("name"):
        raise ConfigError(f"{where}: each rule is a mapping with at least a name, got {item!r}.")
    return _build(Rule, item, f"{where} ({item['name']})")


def _build(cls: Any, item: Any, where: str) -> Any:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping of settings, got {item!r}.")
    allowed = [f.name for f in fields(cls)]
    for key in item:
        if key not in allowed:
            raise ConfigError(f"{where}: " + unknown_name_message("key", str(key), allowed))
    try:
        return cls(**item)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}.") from None


def load_monitor_config(path: str | Path) -> MonitorConfig:
    """Read a monitor YAML file (see ``conf/monitor/default.yaml``).

    Raises:
        ConfigError: the file is missing, is not YAML, or has a bad key or value.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read the monitor rules file {str(p)!r}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"The monitor rules file {str(p)!r} is not valid YAML: {exc}.") from None
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"The monitor rules file {str(p)!r} must hold a mapping with rules:, health:, sinks:.")
    return monitor_config(data, str(p))


@dataclass(frozen=True)
class MonitorReport:
    """What one evaluation found.

    Attributes:
        alerts: every alert the rules and health raise over the stored history, oldest first.
        new: those not raised before (now stored and sent).
        health: the health of each pipeline checked.
        failures: deliveries that failed in this pass (each stays pending and is retried).
        delivered: deliveries made in this pass (new alerts and earlier failures).
        pending: deliveries still pending after this pass, in the whole store.
    """

    alerts: tuple[Alert, ...]
    new: tuple[Alert, ...]
    health: tuple[PipelineHealth, ...]
    failures: tuple[SinkFailure, ...]
    delivered: int = 0
    pending: int = 0

    @property
    def critical(self) -> tuple[Alert, ...]:
        """The new critical alerts: any makes ``calibrax monitor`` exit 1."""
        return tuple(a for a in self.new if Severity(a.severity) is Severity.CRITICAL)


def _rule_alerts(store: Store, rule: Rule) -> list[Alert]:
    benchmarks = [rule.benchmark] if rule.benchmark else store.benchmark_names()
    alerts: list[Alert] = []
    for bench in benchmarks:
        series: dict[str, tuple[dict[str, Any], list[Point]]] = {}
        for row in store.history(bench, rule.measure, rule.params, since_accept=True):
            if row["median"] is None:
                continue
            key = canonical_params(row["params"])
            subject = {"benchmark": bench, "params": row["params"], "measure": rule.measure}
            series.setdefault(key, (subject, []))[1].append(Point(row["started_at"], float(row["median"]), row["run_id"]))
        for subject, points in series.values():
            alerts += evaluate_rule(rule, points, subject)
    return alerts


def monitor_store(store: Store, config: MonitorConfig, *, sinks: Sequence[AlertSink] = (),
                  record: bool = True) -> MonitorReport:
    """Evaluate the rules and pipeline health over a store's history.

    New alerts are stored with a pending delivery to every sink (the outbox) before anything
    is sent; then every due delivery to these sinks, new or left over by an earlier failure,
    is claimed and sent (see ``deliver_pending``).

    Args:
        store: an open store.
        config: rules, health policy and sinks.
        sinks: more sinks, added to the config's.
        record: store the new alerts and send them; when false, only report them.

    Example:
        report = monitor_store(store, load_monitor_config("conf/monitor/default.yaml"))
    """
    alerts: list[Alert] = []
    for rule in config.rules:
        alerts += _rule_alerts(store, rule)
    healths: list[PipelineHealth] = []
    if config.health is not None:
        for executions in executions_from_runs(store.list_runs(), config.pipeline).values():
            health = pipeline_health(executions, config.health)
            healths.append(health)
            alerts += health_alerts(health)
    alerts.sort(key=lambda a: (a.at, a.rule))
    all_sinks = _unique([*config.sinks, *sinks])
    if not record:
        known = store.alert_ids()
        return MonitorReport(tuple(alerts), tuple(a for a in alerts if a.id not in known), tuple(healths), ())
    known = store.alert_ids()
    new = store.add_alerts([a for a in alerts if a.id not in known], sinks=[s.name for s in all_sinks])
    sent = deliver_pending(store, all_sinks)
    return MonitorReport(tuple(alerts), tuple(new), tuple(healths), sent.failures, sent.delivered,
                         len(store.delivery_states(state="pending")))


def retry_deliveries(store: Store, config: MonitorConfig, *, sinks: Sequence[AlertSink] = ()) -> MonitorReport:
    """Send every pending delivery to the config's sinks and ``sinks`` now, without waiting for
    the backoff and without evaluating the rules (``calibrax monitor --retry``).

    Example:
        report = retry_deliveries(store, load_monitor_config("conf/monitor/default.yaml"))
    """
    sent = deliver_pending(store, _unique([*config.sinks, *sinks]), due_only=False)
    return MonitorReport((), (), (), sent.failures, sent.delivered, len(store.delivery_states(state="pending")))


def _unique(sinks: Sequence[AlertSink]) -> list[AlertSink]:
    """The sinks, the first of each name (a URL given twice is one sink)."""
    seen: dict[str, AlertSink] = {}
    for sink in sinks:
        seen.setdefault(sink.name, sink)
    return list(seen.values())
