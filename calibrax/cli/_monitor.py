"""``calibrax monitor``: evaluate monitoring rules and pipeline health over the store.

JAX is never imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from calibrax.cli._common import db_option, echo_json, echo_table, exit_with, json_option, open_store
from calibrax.core.errors import ConfigError
from calibrax.core.exitcodes import ExitCode

if TYPE_CHECKING:
    from calibrax.core.checks import Alert
    from calibrax.monitoring import MonitorReport, PipelineHealth

__all__ = ["monitor"]


def rules_file(ref: str, cwd: Path | None = None) -> Path:
    """The rules file ``ref`` names: a path to a YAML file, or a name in ``conf/monitor/``
    (the project's ``./conf`` first, then calibrax's).

    Raises:
        ConfigError: no such file or name; the message lists the names there are.
    """
    from calibrax.core.registry import unknown_name_message
    from calibrax.runner.catalog import config_dirs

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        if not path.is_file():
            raise ConfigError(f"The monitor rules file {ref!r} does not exist; give a YAML file or a name in conf/monitor/.")
        return path
    names: set[str] = set()
    for folder in config_dirs(cwd):
        candidate = folder / "monitor" / f"{ref}.yaml"
        if candidate.is_file():
            return candidate
        names |= {p.stem for p in (folder / "monitor").glob("*.yaml")}
    raise ConfigError(unknown_name_message("monitor rules", ref, sorted(names))
                      + " Give a name in conf/monitor/ or a path to a YAML file.")


@click.command()
@click.option("--rules", "rules_ref", default="default", show_default=True, metavar="NAME|PATH",
              help="A rules file: a name in conf/monitor/ (./conf first) or a path to a YAML file.")
@click.option("--webhook", "webhooks", multiple=True, metavar="URL", help="Also POST new alerts to this URL (repeatable).")
@click.option("--jsonl", "jsonl", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append new alerts to this JSONL file.")
@click.option("--dry-run", is_flag=True, help="Report the alerts without storing or sending them.")
@click.option("--retry", is_flag=True,
              help="Only send the alerts whose delivery failed before, now (no backoff wait, no rule evaluation).")
@click.option("--all", "show_all", is_flag=True, help="List every alert over the history, not only the new ones.")
@db_option
@json_option
def monitor(rules_ref: str, webhooks: Sequence[str], jsonl: Path | None, dry_run: bool, retry: bool, show_all: bool,
            db: Path, as_json: bool) -> None:
    """Evaluate monitoring rules and pipeline health over the stored history.

    New alerts are stored (each is raised once) with a pending delivery to each of the rules
    file's sinks and --webhook / --jsonl, then sent; a failed delivery is retried with backoff
    on later runs (or at once with --retry). Exits 1 when a new alert is critical.

    Example: calibrax monitor --rules conf/monitor/default.yaml --webhook https://hooks.example.org/x
    """
    from calibrax.core.checks import alert_to_dict
    from calibrax.monitoring import JsonlSink, WebhookSink, load_monitor_config, monitor_store, retry_deliveries

    config = load_monitor_config(rules_file(rules_ref))
    sinks: list[Any] = [WebhookSink(url) for url in webhooks]
    if jsonl is not None:
        sinks.append(JsonlSink(jsonl))
    if retry and dry_run:
        raise ConfigError("--retry sends pending alerts and --dry-run sends nothing; give one of them.")
    with open_store(db) as store:
        if retry:
            report = retry_deliveries(store, config, sinks=sinks)
        else:
            report = monitor_store(store, config, sinks=sinks, record=not dry_run)
    shown = report.alerts if show_all else report.new
    if as_json:
        echo_json({"alerts": [alert_to_dict(a) for a in shown], "new": [a.id for a in report.new],
                   "health": [_health_dict(h) for h in report.health],
                   "failures": [vars(f) for f in report.failures], "critical": len(report.critical),
                   "delivered": report.delivered, "pending": report.pending})
    else:
        _render(report, shown)
    exit_with(ExitCode.REGRESSION if report.critical else ExitCode.OK)


def _health_dict(health: PipelineHealth) -> dict[str, Any]:
    return {"pipeline": health.pipeline, "state": health.state.value, "executions": health.executions,
            "failures": health.failures, "failure_rate": health.failure_rate, "duration": health.duration,
            "baseline_duration": health.baseline_duration, "slowdown": health.slowdown, "reasons": list(health.reasons)}


def _render(report: MonitorReport, shown: Sequence[Alert]) -> None:
    if shown:
        echo_table([[a.at[:19], a.severity.value.upper(), a.rule, a.message] for a in shown],
                   ["at (UTC)", "severity", "rule", "alert"])
    for h in report.health:
        why = f": {'; '.join(h.reasons)}" if h.reasons else ""
        click.echo(f"Pipeline {h.pipeline}: {h.state.value} ({h.executions} runs, {h.failures} failed){why}")
    for f in report.failures:
        click.echo(f"Sink {f.sink} failed: {f.error}", err=True)
    old = len(report.alerts) - len(report.new)
    click.echo(f"{len(report.new)} new alert(s), {len(report.critical)} critical; {old} raised before.")
    if report.pending:
        click.echo(f"{report.pending} alert delivery(ies) pending; later runs retry them "
                   "(calibrax monitor --retry sends them now).", err=True)
