"""What a new user does in the first hour, end to end: a Flax train step with a dict batch,
and calibrax.run from Python (as a notebook calls it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import QUICK, run_cli

from calibrax.core import CaseStatus
from calibrax.storage import Store

pytestmark = pytest.mark.slow

DICT_STEP = '''
import jax, jax.numpy as jnp, optax
from flax import nnx
import calibrax


@calibrax.benchmark("dict_step", params={"batch": [16]})
def dict_step(batch: int) -> calibrax.Workload:
    model = nnx.Sequential(nnx.Linear(8, 16, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(16, 1, rngs=nnx.Rngs(1)))
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    x = jax.random.normal(jax.random.key(0), (batch, 8))
    data = {"image": x, "label": x.sum(axis=1, keepdims=True)}

    def loss_fn(m, b):
        return ((m(b["image"]) - b["label"]) ** 2).mean()

    return calibrax.from_train_step(model, opt, loss_fn, data, items=batch)
'''


@pytest.fixture
def dict_project(project: Path) -> Path:
    (project / "dictbench.py").write_text(DICT_STEP)
    (project / "conf" / "benchmark").mkdir(parents=True)
    (project / "conf" / "benchmark" / "dict_step.yaml").write_text("source: dictbench\nparams:\n  batch: [16, 32]\n")
    return project


def test_an_nnx_train_step_with_a_dict_batch_runs_through_calibrax_run(dict_project: Path) -> None:
    res = run_cli("calibrax-run", "benchmarks=[dict_step]", *QUICK, cwd=dict_project)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    assert "[1/2] dict_step" in out and "about" in out and "[2/2] dict_step" in out  # progress with an ETA
    with Store.open(dict_project / "calibrax.db") as store:
        record = store.load_run("latest")
    assert [c.params for c in record.cases] == [{"batch": 16}, {"batch": 32}]
    for case in record.cases:
        assert case.status is CaseStatus.OK, case.error
        assert case.measures["time"].summary.median > 0 and "throughput" in case.measures
        assert case.measures["time"].meta["flow"] == "carry"


def test_calibrax_run_from_python_returns_the_outcome_and_stores_the_run(dict_project: Path) -> None:
    script = (
        "import json, calibrax\n"
        "outcome = calibrax.run(['dict_step'], ['profile=quick', 'params.dict_step.batch=[8]', 'exporters=[json]'])\n"
        "print(json.dumps({'exit': outcome.exit_code, 'id': outcome.run_id, 'status': outcome.status.value,\n"
        "                  'cases': len(outcome.cases), 'report': str(outcome.report_dir)}))\n"
        "try:\n"
        "    calibrax.run(['dict_stpe'])\n"
        "except calibrax.CalibraxError as exc:\n"
        "    print('refused:', exc)\n"
    )
    res = subprocess.run([sys.executable, "-c", script], cwd=dict_project, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.strip().splitlines()
    outcome = json.loads(next(line for line in lines if line.startswith("{")))
    assert outcome["exit"] == 0 and outcome["status"] == "ok" and outcome["cases"] == 1
    assert (Path(outcome["report"]) / "run.json").is_file()
    assert any("refused: Unknown benchmark 'dict_stpe'. Did you mean 'dict_step'" in line for line in lines)
    with Store.open(dict_project / "calibrax.db") as store:
        stored = store.load_run(outcome["id"])
    assert [c.params for c in stored.cases] == [{"batch": 8}]
    assert list(stored.run.overrides) == ["profile=quick", "params.dict_step.batch=[8]", "exporters=[json]",
                                          "benchmarks=[dict_step]"]


def test_a_decorator_only_grid_runs_and_the_stored_config_says_where_it_came_from(project: Path) -> None:
    (project / "gelubench.py").write_text(
        "import jax, jax.numpy as jnp, calibrax\n\n"
        "@calibrax.benchmark('my_gelu', params={'n': [256, 1024]})\n"
        "def my_gelu(n: int) -> calibrax.Workload:\n"
        "    return calibrax.Workload(jax.jit(jax.nn.gelu), args=(jnp.ones((n,)),), items=n)\n")
    (project / "conf" / "benchmark").mkdir(parents=True)
    (project / "conf" / "benchmark" / "my_gelu.yaml").write_text("source: gelubench\ndescription: GELU\n")
    res = run_cli("calibrax-run", "benchmarks=[my_gelu]", *QUICK, cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    with Store.open(project / "calibrax.db") as store:
        record = store.load_run("latest")
    assert [c.params for c in record.cases] == [{"n": 256}, {"n": 1024}]
    assert all(c.status is CaseStatus.OK for c in record.cases)
    assert record.run.config["params"]["my_gelu"] == {"n": [256, 1024]}
    assert record.run.config["plan"]["grid_source"]["my_gelu"] == "decorator"
