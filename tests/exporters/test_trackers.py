"""The W&B and MLflow exporters against the real packages, and their failures as data."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from report_records import SCRIPT, make_record

from calibrax.core import RunRecord
from calibrax.exporters import export_all, get_exporter
from calibrax.exporters._tracking import flat_config, metric_key

TRACKERS = [("wandb", "wandb.json"), ("mlflow", "mlflow.json")]


@pytest.fixture
def wandb_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Offline W&B with every folder it writes inside ``tmp_path`` (nothing under $HOME)."""
    root = tmp_path / "wandb-root"
    root.mkdir()
    for var, sub in (("WANDB_DIR", ""), ("WANDB_CACHE_DIR", "cache"), ("WANDB_DATA_DIR", "data"),
                     ("WANDB_CONFIG_DIR", "config")):
        monkeypatch.setenv(var, str(root / sub))
    (root / "home").mkdir()
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return root


def _sweep_record() -> RunRecord:
    record = make_record()
    return replace(record, run=replace(record.run, sweep_id="sweep-7"))


def _inspect(run_dir: Path, env_root: Path) -> dict[str, object]:
    """Config and summary read back from the offline run's .wandb log by wandb's own reader."""
    wandb_cli = Path(sys.executable).parent / "wandb"
    out = subprocess.run(
        [str(wandb_cli), "leet", "inspect", "--summary", "--json", str(run_dir)],
        capture_output=True, text=True, timeout=120, check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(env_root / "home"), "WANDB_CONFIG_DIR": str(env_root / "config"),
             "WANDB_CACHE_DIR": str(env_root / "cache"), "WANDB_DATA_DIR": str(env_root / "data")},
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_wandb_offline_run_holds_config_table_and_summary(wandb_env: Path, tmp_path: Path) -> None:
    record = _sweep_record()
    outcome = export_all(record, ["wandb"], tmp_path / "out")
    assert outcome.failed == {}
    receipt = json.loads(outcome.written["wandb"].read_text())
    assert receipt["tracker"] == "wandb" and receipt["mode"] == "offline"
    run_dir = Path(receipt["dir"])
    assert run_dir.parent == wandb_env / "wandb" and run_dir.name.startswith("offline-run-")

    tables = list((run_dir / "files" / "media" / "table").glob("cases_*.table.json"))
    assert len(tables) == 1
    table = json.loads(tables[0].read_text())
    assert table["columns"][:4] == ["benchmark", "params", "status", "error"]
    assert len(table["data"]) == len(record.cases)
    rows = {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["data"]}
    assert rows[SCRIPT]["params"] == f"label={SCRIPT}"
    assert rows["conv"]["status"] == "error" and rows["conv"]["error"] == "ZeroDivisionError: division by zero"
    assert rows["matmul"]["verdict"] in {"pass", "regressed"}

    seen = _inspect(run_dir, wandb_env)
    assert seen["name"] == record.run.id and seen["project"] == "calibrax"
    config = seen["config"]
    assert isinstance(config, dict)
    assert config["profile"] == {"rounds": 40, "note": "</script><b>x</b>"}
    assert config["calibrax"]["git"]["commit"] == record.run.git.commit
    summary = seen["summary"]
    assert isinstance(summary, dict)
    case = record.cases[0]
    key = metric_key(case.benchmark, case.params, "time")
    assert key == "matmul/n=256,dtype=float32/time"
    assert summary[key] == pytest.approx(case.measures["time"].summary.median)  # type: ignore[union-attr]
    assert summary["cases/error"] == 1 and summary["cases/crashed"] == 1
    assert not any(k.startswith("conv/") for k in summary)
    assert list((wandb_env / "home").iterdir()) == []  # nothing was written under $HOME


def test_wandb_bad_mode_is_reported_as_a_failed_exporter(wandb_env: Path, tmp_path: Path) -> None:
    outcome = export_all(make_record(), ["wandb", "json"], tmp_path, {"wandb": {"mode": "cloud"}})
    assert "mode must be one of online, offline, disabled" in outcome.failed["wandb"]
    assert outcome.written["json"].is_file()


@pytest.mark.parametrize(("name", "filename"), TRACKERS)
def test_missing_extra_is_a_failed_exporter_naming_the_pip_command(
    name: str, filename: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import` raise ImportError, as on a machine without the extra.
    for module in ("wandb", "mlflow", "mlflow.tracking"):
        monkeypatch.setitem(sys.modules, module, None)
    outcome = export_all(make_record(), [name, "json"], tmp_path)
    assert outcome.failed[name].startswith("ExporterError: ")
    assert f"pip install calibrax[{name}]" in outcome.failed[name]
    assert not (tmp_path / filename).exists()
    assert json.loads(outcome.written["json"].read_text())["run"]["id"] == make_record().run.id


@pytest.mark.parametrize(("name", "filename"), TRACKERS)
def test_tracker_is_registered_with_its_file(name: str, filename: str) -> None:
    assert get_exporter(name).filename == filename


def test_flat_config_keys_and_values() -> None:
    flat = flat_config({"a": {"b": {"c": 1}, "d": []}, "e": None, "f": {}})
    assert flat == {"a.b.c": "1", "a.d": "[]", "e": "None", "f": "{}"}


@pytest.fixture
def mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in (("MLFLOW_DISABLE_TELEMETRY", "true"), ("GIT_PYTHON_REFRESH", "quiet"),
                       ("MLFLOW_LOGGING_LEVEL", "WARNING")):
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_mlflow_run_reads_back_with_params_metrics_tags_and_artifacts(mlflow_env: None, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    record = _sweep_record()
    second = replace(record, run=replace(record.run, id="20250301-130000-ef56"))
    settings = {"mlflow": {"tracking_uri": uri, "experiment": "bench"}}
    first = export_all(record, ["mlflow"], tmp_path / "a", settings)
    again = export_all(second, ["mlflow"], tmp_path / "b", settings)
    assert first.failed == {} and again.failed == {}
    receipts = [json.loads(o.written["mlflow"].read_text()) for o in (first, again)]
    assert receipts[0]["parent_run_id"] == receipts[1]["parent_run_id"] is not None

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(receipts[0]["run_id"])
    assert run.info.run_name == record.run.id and run.info.status == "FAILED"  # the run had failed cases
    params = run.data.params
    assert params["suite"] == "default" and params["profile.rounds"] == "40"
    assert params["profile.note"] == "</script><b>x</b>"
    case = record.cases[1]
    assert run.data.metrics["matmul/n:1024_dtype:float32/time"] == pytest.approx(case.measures["time"].summary.median)  # type: ignore[union-attr]
    assert run.data.metrics["cases/error"] == 1
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == record.run.git.commit
    assert tags["mlflow.source.git.branch"] == "main" and tags["calibrax.git.dirty"] == "true"
    assert tags["calibrax.hardware.backend"] == "cpu" and tags["calibrax.version.jax"] == "0.6.0"
    assert tags["mlflow.parentRunId"] == receipts[0]["parent_run_id"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"index.html", "run.json"}
    html = Path(client.download_artifacts(run.info.run_id, "index.html", str(tmp_path / "dl")))
    assert record.run.id in html.read_text(encoding="utf-8")
    parent = client.get_run(receipts[0]["parent_run_id"])
    assert parent.data.tags["calibrax.sweep_id"] == "sweep-7"


def test_mlflow_file_store_and_unreachable_server(mlflow_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    outcome = export_all(make_record(), ["mlflow"], tmp_path / "out", {"mlflow": {"tracking_uri": uri}})
    assert outcome.failed == {}
    run_id = json.loads(outcome.written["mlflow"].read_text())["run_id"]
    assert MlflowClient(tracking_uri=uri).get_run(run_id).data.tags["calibrax.run_id"] == make_record().run.id

    dead = {"mlflow": {"tracking_uri": "http://127.0.0.1:9", "max_retries": 0, "timeout": 2}}
    failed = export_all(make_record(), ["mlflow", "markdown"], tmp_path / "dead", dead)
    assert "127.0.0.1" in failed.failed["mlflow"] and failed.written["markdown"].is_file()
