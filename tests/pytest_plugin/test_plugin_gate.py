"""``--calibrax-baseline``: the session gated as ``calibrax check`` gates a run.

The timed function pauses on the host and then calls a jitted step, so doubling its pause makes
it twice as slow on a busy shared machine as on a quiet one: the slowdown is unambiguous
whatever else runs beside the test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from calibrax_pytester import run_pytest

from calibrax.core.models import VerdictKind
from calibrax.storage import Store

WORK = textwrap.dedent('''
    import time

    import jax
    import jax.numpy as jnp

    PAUSE = {pause}


    @jax.jit
    def step(x):
        return jnp.tanh(x @ x)


    def work(x):
        time.sleep(PAUSE)  # host time: as long on a busy machine as on a quiet one
        return step(x)


    def test_work(calibrax):
        out = calibrax(work, jnp.full((32, 32), 0.01))
        assert out.shape == (32, 32)
''')

PROFILE = """\
# quick's settings with rounds of several calls: a busy machine's outliers average out in each round.
name: gate
warmup_calls: 1
warmup_time: 0.01
min_round_time: 0.05
min_rounds: 20
min_time: 0.5
"""

THRESHOLDS = """\
# A wide margin: the same code must pass on a busy shared machine; twice the pause must not.
measures:
  time: {margin: 0.3, alpha: 0.01}
"""


@pytest.mark.slow  # host pauses dominate the timed work: it runs beside other tests (see the module's docstring)
def test_the_same_code_passes_and_twice_the_work_fails_naming_the_case(tmp_path: Path) -> None:
    (tmp_path / "conf" / "thresholds").mkdir(parents=True)
    (tmp_path / "conf" / "profile").mkdir()
    (tmp_path / "conf" / "profile" / "gate.yaml").write_text(PROFILE)
    (tmp_path / "conf" / "thresholds" / "default.yaml").write_text(THRESHOLDS)
    suite = tmp_path / "test_gate.py"
    suite.write_text(WORK.format(pause=0.01))
    first = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=gate", "--calibrax-save=main")
    assert first.returncode == 0, first.stdout + first.stderr
    same = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=gate", "--calibrax-baseline=main")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "against baseline 'main'" in same.stdout and "REGRESSED" not in same.stdout
    suite.write_text(WORK.format(pause=0.02))
    slower = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=gate", "--calibrax-baseline=main",
                        "--calibrax-summary=gate.md")
    assert slower.returncode == 1, slower.stdout + slower.stderr
    assert "1 passed" in slower.stdout  # the test itself passed: the gate failed the session
    assert "REGRESSED test_gate.py::test_work {} time:" in slower.stdout
    with Store.open(tmp_path / "calibrax.db") as store:
        latest = store.list_runs()[0]
        kinds = {v.measure: v.kind for v in store.load_verdicts(latest.id)}
    assert kinds["time"] is VerdictKind.REGRESSED
    assert "test_gate.py::test_work" in (tmp_path / "gate.md").read_text()
