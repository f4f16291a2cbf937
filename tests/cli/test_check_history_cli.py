"""``calibrax check`` names the noise model it used, and ``--history`` sets the baseline's history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import hardware, time_case

from calibrax.cli import cli
from calibrax.core import GitInfo, RunInfo, RunStatus
from calibrax.storage import Store

CONFIG: dict[str, Any] = {"thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.01}}}}


def _add(store: Store, run_id: str, second: int, center: float, config: dict[str, Any] | None = None) -> None:
    run = RunInfo(run_id, f"2026-11-26T00:00:{second:02d}+00:00", RunStatus.RUNNING, GitInfo("abc", "main", False),
                  hardware(), config or CONFIG)
    store.begin_run(run)
    store.add_case(run_id, time_case("conv", {"n": 1}, center, n=30, seed=second))
    store.finish_run(run_id, RunStatus.OK, run.started_at)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Nine typical runs around 35.5 ms, a baseline run that happened to take 32.2 ms, a candidate."""
    path = tmp_path / "h.db"
    with Store.open(path) as store:
        for i, center in enumerate((35.1, 36.4, 34.6, 35.9, 35.3, 36.8, 34.9, 35.7, 36.0)):
            _add(store, f"h{i}", i, center * 1e-3)
        _add(store, "base", 20, 32.2e-3)
        store.set_baseline("main", "base")
        _add(store, "cand", 30, 35.5e-3)
        _add(store, "bad", 31, 35.5e-3, config={**CONFIG, "ci": {"history": -3}})
    return path


def _check(db: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["check", *args, "--baseline", "main", "--db", str(db)])


def test_check_names_the_history_noise_model_and_does_not_fail_on_a_fast_baseline(db: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    res = _check(db, "cand", "--summary", str(summary))
    assert res.exit_code == 0, res.output
    assert "noise model: history of 10 runs (1 verdict)" in res.output
    assert "_Noise model: history of 10 runs (1 verdict)._" in summary.read_text()
    shown = json.loads(_check(db, "cand", "--json").output)
    assert shown["verdicts"][0]["details"]["noise_model"] == "history of 10 runs"


def test_history_zero_compares_with_the_baseline_run_alone(db: Path) -> None:
    res = _check(db, "cand", "--history", "0")
    assert res.exit_code == 1, res.output
    assert "REGRESSED conv" in res.output and "noise model: within-run only (1 verdict)" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["cand", "--history", "-1"], "Invalid value for '--history'"),
    (["bad"], "Error: ci.history must be a whole number of runs >= 0"),
])
def test_a_bad_history_exits_2_with_one_line(db: Path, args: list[str], message: str) -> None:
    res = _check(db, *args)
    assert res.exit_code == 2 and message in res.output, res.output
