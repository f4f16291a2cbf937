"""The metrics speed suite: its grid names known pairings, and it runs through calibrax-run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml
from conftest import QUICK, REPO, run_cli

from calibrax import metrics
from calibrax.core import CaseStatus
from calibrax.core.benchmark import BENCHMARKS
from calibrax.storage import Store

GRID = yaml.safe_load((REPO / "conf" / "benchmark" / "metric_speed.yaml").read_text())["params"]


def test_every_metric_of_the_grid_has_a_registered_metric_and_a_scikit_learn_pairing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the module registers "metric_speed"; this test's registration must not outlive it
    monkeypatch.setattr(BENCHMARKS, "_members", {k: v for k, v in BENCHMARKS._members.items() if k != "metric_speed"})
    monkeypatch.delitem(sys.modules, "metric_speed_under_test", raising=False)
    spec = importlib.util.spec_from_file_location("metric_speed_under_test", REPO / "benchmarks" / "metric_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert set(GRID["metric"]) == set(module.PAIRS) and GRID["impl"] == ["calibrax", "sklearn"]
    assert GRID["size"] == [1_000_000]
    for name in GRID["metric"]:
        metrics.get(name)
        module.sklearn_function(name)


@pytest.mark.slow
def test_metrics_suite_stores_every_case(project: Path) -> None:
    chosen = ["mse", "f1", "log_loss", "roc_auc"]  # one metric per kind of data keeps this short
    res = run_cli("calibrax-run", "suite=metrics", "params.metric_speed.size=1000", f"params.metric_speed.metric=[{','.join(chosen)}]",
                  "profile.min_time=0.01", "profile.min_rounds=3", *QUICK, cwd=project)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    with Store.open(project / "calibrax.db") as store:
        cases = store.load_run("latest").cases
    stored = {(c.params["metric"], c.params["impl"]) for c in cases if c.status is CaseStatus.OK}
    assert stored == {(m, i) for m in chosen for i in GRID["impl"]}
    assert all(c.params["size"] == 1000 and c.measures["time"].samples for c in cases)
