"""The stored gate with a history made by real calibrax-run runs, and ci.repeats measuring the candidate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import QUICK, run_cli

from calibrax.storage import Store

pytestmark = pytest.mark.slow


def test_the_stored_gate_learns_between_run_noise_from_real_runs(userproj: Path) -> None:
    args = ["benchmarks=[steady]", *QUICK]
    # Three runs of the baseline's code in one sweep (one process, JAX started once), then the baseline.
    history = run_cli("calibrax-run", "-m", *args, "profile.isolation=none", "profile.min_rounds=5,6,7", cwd=userproj)
    assert history.returncode == 0, history.stdout + history.stderr
    assert run_cli("calibrax", "baseline", "set", "main", cwd=userproj).returncode == 0

    gated = run_cli("calibrax-run", *args, "ci=stored", "ci.baseline=main", "ci.repeats=2", cwd=userproj)
    assert gated.returncode in (0, 1), gated.stdout + gated.stderr  # a verdict either way; its noise model is checked
    assert "ci.repeats: candidate run 2 of 2" in gated.stdout + gated.stderr
    assert "Stored gate noise model: history of 3 runs, 2 candidate runs (1 verdict)" in gated.stdout + gated.stderr
    with Store.open(userproj / "calibrax.db") as store:
        [verdict] = store.load_verdicts(store.resolve_run_id("latest"))
    assert verdict.details["noise_model"] == "history of 3 runs, 2 candidate runs", verdict.message
    assert len(verdict.details["candidate_run_medians"]) == 2 and verdict.details["history_runs"] == 3

    checked = run_cli("calibrax", "check", "--baseline", "main", cwd=userproj)
    assert "noise model: history of 3 runs (1 verdict)" in checked.stdout, checked.stdout + checked.stderr
    alone = run_cli("calibrax", "check", "--baseline", "main", "--history", "0", "--json", cwd=userproj)
    assert json.loads(alone.stdout)["verdicts"][0]["details"]["noise_model"] == "within-run only"
