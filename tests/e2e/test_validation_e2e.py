"""`validation:` blocks in benchmark YAML, run by calibrax-run as a user runs it: series travel
from the worker, checks are stored per run, and only gating violations fail the run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from calibrax.storage import Store
from tests.conftest import QUICK, run_cli

MODULE = textwrap.dedent(
    '''
    import jax
    import jax.numpy as jnp
    import numpy as np

    import calibrax


    @calibrax.benchmark("descent", params={"lr": [0.1]})
    def descent(lr: float) -> calibrax.Workload:
        """Gradient descent on x^2 / 2: the loss shrinks by (1 - lr)^2 a step, and grows for lr > 2."""
        x, losses = 1.0, []
        for _ in range(60):
            losses.append(0.5 * x * x)
            x = (1.0 - lr) * x
        return calibrax.Workload(jax.jit(lambda a: a * 2.0), args=(jnp.ones(8),), series={"loss": losses})


    @calibrax.benchmark("prefix", params={"n": [4096], "dtype": ["float32"]})
    def prefix(n: int, dtype: str) -> calibrax.Workload:
        """A prefix sum, whose float32 result drifts from the float64 one."""
        x = jnp.asarray(np.random.default_rng(0).standard_normal(n), dtype=dtype)
        return calibrax.Workload(jax.jit(jnp.cumsum), args=(x,))
    '''
)

DESCENT = """
source: valbench
params: {lr: [0.1]}
validation:
  gate: true
  checks:
    - {type: convergence, series: loss, tolerances: [1.0e-3], max_steps: 40, rate: linear}
"""

PREFIX = """
source: valbench
params: {n: [4096], dtype: [float32]}
validation:
  gate: false
  checks:
    - {type: accuracy, output: return, reference_params: {dtype: float64}, max_abs: 1.0e-3}
    - {type: accuracy, output: return, reference_params: {dtype: float64}, max_ulps: 0.5}
    - {type: convergence, series: loss, tolerances: [0.1]}
    - {type: accuracy, measure: time, reference: 10.0, better: lower}
"""

BROKEN = """
source: valbench
params: {lr: [0.1]}
validation:
  checks:
    - {type: convergence, series: loss, tolerance: [0.1]}
"""


@pytest.fixture
def valproj(tmp_path: Path) -> Path:
    root = tmp_path / "valproj"
    (root / "conf" / "benchmark").mkdir(parents=True)
    (root / "valbench.py").write_text(MODULE)
    for name, text in (("descent", DESCENT), ("prefix", PREFIX), ("broken", BROKEN)):
        (root / "conf" / "benchmark" / f"{name}.yaml").write_text(text)
    return root


def _checks(root: Path) -> tuple[str, list, bool]:
    with Store.open(root / "calibrax.db") as store:
        run_id = store.resolve_run_id("latest")
        entries, gate = store.load_validation(run_id)
    return run_id, entries, gate


@pytest.mark.slow
def test_checks_are_stored_and_non_gating_violations_pass(valproj: Path) -> None:
    run = run_cli("calibrax-run", "benchmarks=[descent,prefix]", *QUICK, cwd=valproj)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Validation: 5 check(s), 2 violation(s)" in run.stdout
    _, entries, gate = _checks(valproj)
    assert gate is True  # one benchmark gates
    descent, f32_abs, f32_ulps, missing, timed = entries
    assert descent.kind == "convergence" and descent.passed and descent.figures["rate"] == "linear"
    assert descent.figures["reached"] == [[1e-3, 30]] and descent.figures["gate"] is True
    assert f32_abs.kind == "error" and f32_abs.passed and f32_abs.figures["reference_dtype"] == "float64"
    assert 0 < f32_abs.figures["max_abs"] < 1e-3 and f32_abs.figures["gate"] is False
    assert not f32_ulps.passed and f32_ulps.figures["max_ulps"] > 0.5
    assert not missing.passed and "returns no series" in missing.message and "series={'loss': values}" in missing.message
    assert timed.kind == "accuracy" and timed.passed and timed.figures["params"] == {"n": 4096, "dtype": "float32"}
    shown = json.loads(run_cli("calibrax", "show", "latest", "--json", "--no-samples", cwd=valproj).stdout)
    series = shown["cases"][0]["series"]["loss"]
    assert len(series) == 60 and series[0] == 0.5
    assert "validation" not in shown["cases"][1] and "validation" not in shown["cases"][1]["meta"]  # in the validations table


@pytest.mark.slow
def test_a_diverging_series_fails_a_gating_run(valproj: Path) -> None:
    run = run_cli("calibrax-run", "benchmarks=[descent]", "params.descent.lr=2.5", *QUICK, cwd=valproj)
    assert run.returncode == 1, run.stdout + run.stderr
    [entry] = _checks(valproj)[1]
    assert not entry.passed and entry.figures["status"] == "diverged" and "diverged at step" in entry.message
    assert "fails the run" in run.stdout


@pytest.mark.slow
def test_an_unknown_check_key_exits_2_before_anything_runs(valproj: Path) -> None:
    run = run_cli("calibrax-run", "benchmarks=[broken]", *QUICK, cwd=valproj)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "broken.yaml: validation.checks[0]: Unknown key 'tolerance'. Did you mean 'tolerances'?" in run.stderr
    assert not (valproj / "calibrax.db").exists() or "Run " not in run.stdout


@pytest.mark.slow
def test_the_shipped_classifier_gates_on_its_training_loss(project: Path) -> None:
    run = run_cli("calibrax-run", "benchmarks=[nnx_classifier]", "params.nnx_classifier.steps=[200,1]", *QUICK,
                  cwd=project)
    assert run.returncode == 1, run.stdout + run.stderr
    trained, untrained = _checks(project)[1]
    assert trained.passed and trained.figures["params"]["steps"] == 200 and trained.figures["reached"][1][1] <= 150
    assert not untrained.passed and untrained.figures["params"]["steps"] == 1
    assert untrained.figures["status"] == "progressing" and "misses tolerance 0.1, 0.02" in untrained.message
