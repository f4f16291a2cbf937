"""monitoring: threshold rules over stored history, alert sinks, and pipeline health.

Processing layer: imports calibrax.core, calibrax.statistics and calibrax.storage. No JAX.
"""

from calibrax.monitoring.monitor import (
    AlertManager,
    Point,
    Rule,
    RuleState,
    SinkFailure,
    compute,
    evaluate_rule,
    init,
    update,
)
from calibrax.monitoring.outbox import DeliveryReport, backoff, deliver_pending
from calibrax.monitoring.production import (
    Execution,
    HealthPolicy,
    HealthState,
    PipelineHealth,
    PipelineState,
    executions_from_runs,
    health_alerts,
    pipeline_health,
)
from calibrax.monitoring.service import (
    MonitorConfig,
    MonitorReport,
    load_monitor_config,
    monitor_config,
    monitor_store,
    retry_deliveries,
)
from calibrax.monitoring.sinks import (
    AlertSink,
    DeliveryError,
    JsonlSink,
    LogSink,
    WebhookSink,
    sink_from_config,
)

__all__ = [
    "AlertManager",
    "AlertSink",
    "DeliveryError",
    "DeliveryReport",
    "Execution",
    "HealthPolicy",
    "HealthState",
    "JsonlSink",
    "LogSink",
    "MonitorConfig",
    "MonitorReport",
    "PipelineHealth",
    "PipelineState",
    "Point",
    "Rule",
    "RuleState",
    "SinkFailure",
    "WebhookSink",
    "backoff",
    "compute",
    "deliver_pending",
    "evaluate_rule",
    "executions_from_runs",
    "health_alerts",
    "init",
    "load_monitor_config",
    "monitor_config",
    "monitor_store",
    "pipeline_health",
    "retry_deliveries",
    "sink_from_config",
    "update",
]
