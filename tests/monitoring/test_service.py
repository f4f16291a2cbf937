"""Monitoring a store: rules from YAML over a stored history that degrades, alerts raised once."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import run_info, time_case

from calibrax.core import ConfigError, RunStatus, Severity
from calibrax.monitoring import HealthPolicy, JsonlSink, Rule, load_monitor_config, monitor_config, monitor_store
from calibrax.storage import Store

RULES = """
rules:
  - name: matmul-slower
    benchmark: matmul
    measure: time
    condition: increase
    threshold: 0.2
    window: 5
    consecutive: 3
    severity: critical
  - name: softmax-slow
    measure: time
    condition: above
    threshold: 1.0
health:
  window: 4
  baseline: 6
sinks:
  - {type: log}
"""


def degrading_store(path: Path, slow_runs: int = 3) -> Path:
    """Eight runs at 1 ms, then ``slow_runs`` at 2 ms (matmul only; softmax stays at 0.2 ms)."""
    with Store.open(path) as store:
        for i in range(8 + slow_runs):
            run_id = f"run-{i:02d}"
            store.begin_run(run_info(run_id, started_at=f"2026-11-{i + 1:02d}T00:00:00+00:00"))
            store.add_case(run_id, time_case("matmul", {"n": 512}, 1e-3 if i < 8 else 2e-3, seed=i))
            store.add_case(run_id, time_case("softmax", {"cols": 8}, 2e-4, seed=100 + i))
            store.finish_run(run_id, RunStatus.OK, f"2026-11-{i + 1:02d}T00:01:00+00:00")
    return path


def test_a_degrading_history_raises_a_critical_alert_on_the_third_slow_run(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    config = load_monitor_config(tmp_path / "rules.yaml")
    with Store.open(degrading_store(tmp_path / "calibrax.db", slow_runs=2)) as store:
        assert monitor_store(store, config).alerts == ()  # two slow runs: not yet
    with Store.open(degrading_store(tmp_path / "three.db", slow_runs=3)) as store:
        jsonl = tmp_path / "alerts.jsonl"
        report = monitor_store(store, config, sinks=[JsonlSink(jsonl)])
        (alert,) = report.alerts
        assert alert.run_id == "run-10" and alert.rule == "matmul-slower" and alert.severity is Severity.CRITICAL
        assert report.new == report.alerts == report.critical
        assert [h.state.value for h in report.health] == ["healthy"] and report.failures == ()
        assert store.load_alerts() == [alert] and len(jsonl.read_text().splitlines()) == 1
        again = monitor_store(store, config, sinks=[JsonlSink(jsonl)])
        assert again.alerts == report.alerts and again.new == () and again.critical == ()
        assert len(jsonl.read_text().splitlines()) == 1  # raised once


def test_a_dry_evaluation_stores_and_sends_nothing(tmp_path: Path) -> None:
    config = monitor_config({"rules": [{"name": "slow", "benchmark": "matmul", "threshold": 1.5e-3}]})
    with Store.open(degrading_store(tmp_path / "calibrax.db")) as store:
        report = monitor_store(store, config, record=False)
        assert len(report.new) == 3 and store.load_alerts() == []


def test_pipeline_health_over_stored_runs(tmp_path: Path) -> None:
    with Store.open(degrading_store(tmp_path / "calibrax.db")) as store:
        for i in range(3):
            store.begin_run(run_info(f"bad-{i}", started_at=f"2026-12-0{i + 1}T00:00:00+00:00"))
            store.finish_run(f"bad-{i}", RunStatus.FAILED, f"2026-12-0{i + 1}T00:01:00+00:00")
        report = monitor_store(store, monitor_config({"health": {"window": 4}}))
    (health,) = report.health
    assert health.state.value == "critical" and health.failures == 3
    (alert,) = report.critical
    assert alert.rule == "pipeline-health" and alert.run_id == "bad-2"


def test_a_sink_failure_is_reported_and_the_alert_still_stored(tmp_path: Path) -> None:
    config = monitor_config({"rules": [{"name": "slow", "benchmark": "matmul", "threshold": 1.5e-3, "consecutive": 3}],
                             "sinks": [{"type": "jsonl", "path": str(tmp_path)}]})
    with Store.open(degrading_store(tmp_path / "calibrax.db")) as store:
        report = monitor_store(store, config)
        assert len(report.failures) == 1 and "Cannot append" in report.failures[0].error
        assert len(store.load_alerts()) == 1


def test_config_objects() -> None:
    config = monitor_config({"rules": [{"name": "a", "severity": "error"}], "health": {}, "pipeline": "nightly"})
    assert config.rules == (Rule("a", severity=Severity.ERROR),)
    assert config.health == HealthPolicy() and config.pipeline == "nightly"


@pytest.mark.parametrize(
    "data, match",
    [
        ({"rule": []}, "Unknown key 'rule'"),
        ({"rules": {"name": "a"}}, "rules must be a list"),
        ({"rules": [{"threshold": 1}]}, r"rules\[0\]: each rule is a mapping with at least a name"),
        ({"rules": [{"name": "a", "treshold": 1}]}, r"rules\[0\] \(a\): Unknown key 'treshold'"),
        ({"rules": [{"name": "a", "window": 0}]}, r"rules\[0\] \(a\): Rule 'a': window must be"),
        ({"rules": [{"name": "a"}, {"name": "a"}]}, "rule names must be unique; a appear"),
        ({"health": {"window": -1}}, "health: health.window must be"),
        ({"health": [1]}, "health: expected a mapping"),
        ({"sinks": {"type": "log"}}, "sinks must be a list"),
        ({"sinks": [{"type": "sms"}]}, r"sinks\[0\]: each sink needs type"),
    ],
)
def test_bad_configs_name_the_key(data: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        monitor_config(data, "rules.yaml")


def test_bad_rules_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the monitor rules file"):
        load_monitor_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("rules: [\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_monitor_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_monitor_config(tmp_path / "list.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_monitor_config(tmp_path / "empty.yaml").rules == ()


def test_an_accepted_shift_is_the_new_baseline_of_rules_and_excluded_runs_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES)
    config = load_monitor_config(tmp_path / "rules.yaml")
    with Store.open(degrading_store(tmp_path / "calibrax.db", slow_runs=3)) as store:
        store.accept("run-08", "the slower matmul is intended")
        assert monitor_store(store, config, record=False).alerts == ()  # judged against runs from run-08 on
    with Store.open(degrading_store(tmp_path / "excluded.db", slow_runs=3)) as store:
        store.exclude("run-10", "a noisy host")
        assert monitor_store(store, config, record=False).alerts == ()  # two slow runs left: not yet
