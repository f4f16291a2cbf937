"""check_stored: the stored gate with the baseline's history of runs, in a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factories import hardware, time_case

from calibrax.analysis import GatePolicy
from calibrax.analysis.run_noise import RunLevel
from calibrax.ci.check import baseline_history, check_stored, check_with_margins, history_runs_of, noise_models
from calibrax.core import ConfigError, GitInfo, RunInfo, RunStatus, VerdictKind
from calibrax.storage import Store

CONFIG: dict[str, Any] = {"thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.01}}}}
TYPICAL = (35.1e-3, 36.4e-3, 34.6e-3, 35.9e-3, 35.3e-3, 36.8e-3, 34.9e-3, 35.7e-3, 36.0e-3)
KEY = ('conv{"n": 1}', "time")


def _add(store: Store, run_id: str, second: int, center: float, *, branch: str | None = "main",
         cpu: str = "Test CPU", config: dict[str, Any] | None = None) -> None:
    run = RunInfo(run_id, f"2026-11-26T00:{second // 60:02d}:{second % 60:02d}+00:00", RunStatus.RUNNING,
                  GitInfo("abc123", branch, False), hardware(cpu_model=cpu), config or CONFIG)
    store.begin_run(run)
    store.add_case(run_id, time_case("conv", {"n": 1}, center, n=30, seed=second))
    store.finish_run(run_id, RunStatus.OK, run.started_at)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Nine typical runs of main, then a baseline run that happened to be fast, then candidates."""
    store = Store.open(tmp_path / "h.db")
    for i, center in enumerate(TYPICAL):
        _add(store, f"h{i}", i, center)
    _add(store, "base", 20, 32.2e-3)
    store.set_baseline("main", "base")
    _add(store, "same", 30, 35.5e-3, branch="feature")
    _add(store, "slow", 31, 35.5e-3 * 1.25, branch="feature")
    return store


def test_a_fast_baseline_with_history_is_no_false_alarm_and_without_it_is_one(store: Store) -> None:
    with_history = check_stored(store, "same", "main")
    [verdict] = with_history.verdicts
    assert not verdict.failed and verdict.details["noise_model"] == "history of 10 runs"
    assert store.load_verdicts("same")[0].details["noise_model"] == "history of 10 runs"
    [alone] = check_stored(store, "same", "main", history=0).verdicts
    assert alone.kind is VerdictKind.REGRESSED and alone.details["noise_model"] == "within-run only"


def test_a_real_slowdown_still_fails_with_history(store: Store) -> None:
    [verdict] = check_stored(store, "slow", "main").verdicts
    assert verdict.kind is VerdictKind.REGRESSED, verdict.message


def test_the_run_config_sets_the_history_and_an_argument_overrides_it(store: Store) -> None:
    _add(store, "cfg0", 40, 35.5e-3, branch="feature", config={**CONFIG, "ci": {"history": 0}})
    assert check_stored(store, "cfg0", "main").verdicts[0].details["noise_model"] == "within-run only"
    assert check_stored(store, "cfg0", "main", history=4).verdicts[0].details["noise_model"] == "history of 4 runs"
    checked = check_with_margins(store, "same", "main", {"time": 0.5}, history=3)
    assert checked.record.verdicts[0].details["noise_model"] == "history of 3 runs"


def test_the_history_is_the_baseline_branch_and_hardware_up_to_the_baseline(store: Store) -> None:
    _add(store, "other_branch", 21, 50e-3, branch="feature")
    _add(store, "other_cpu", 22, 50e-3, cpu="Other CPU")
    _add(store, "later", 50, 50e-3)
    found = baseline_history(store, store.load_run("base"), GatePolicy(), 10)
    levels = found[KEY]
    assert len(levels) == 10 and levels[-1].median == pytest.approx(32.2e-3, rel=0.01)  # the baseline run last
    assert max(r.median for r in levels) < 40e-3  # no run of another branch, machine or later time
    assert [r.median for r in baseline_history(store, store.load_run("base"), GatePolicy(), 3)[KEY]] == \
        [r.median for r in levels[-3:]]
    assert baseline_history(store, store.load_run("base"), GatePolicy(), 0) == {}


def test_runs_without_the_case_take_no_place_in_its_history(store: Store) -> None:
    run = RunInfo("other_suite", "2026-11-26T00:00:15+00:00", RunStatus.RUNNING, GitInfo("abc123", "main", False),
                  hardware(), CONFIG)
    store.begin_run(run)
    store.add_case("other_suite", time_case("softmax", {"n": 1}, 1e-3))
    store.finish_run("other_suite", RunStatus.OK, run.started_at)
    assert len(baseline_history(store, store.load_run("base"), GatePolicy(), 10)[KEY]) == 10


def test_excluded_runs_and_runs_before_an_accepted_shift_are_left_out(store: Store) -> None:
    store.exclude("h8", "a noisy neighbour")
    assert len(baseline_history(store, store.load_run("base"), GatePolicy(), 10)[KEY]) == 9
    store.accept("h6", "new allocator")
    levels = baseline_history(store, store.load_run("base"), GatePolicy(), 10)[KEY]
    assert len(levels) == 3  # h6, h7 and the baseline run (h8 excluded)
    [verdict] = check_stored(store, "same", "main").verdicts
    assert verdict.details["noise_model"] == "history of 3 runs"


def test_candidate_repeats_feed_the_comparison(store: Store) -> None:
    repeats = {KEY: (RunLevel(35.4e-3, 35.3e-3, 35.5e-3), RunLevel(35.6e-3, 35.5e-3, 35.7e-3))}
    [verdict] = check_stored(store, "same", "main", repeats=repeats).verdicts
    assert verdict.details["noise_model"] == "history of 10 runs, 3 candidate runs"
    assert len(verdict.details["candidate_run_medians"]) == 3


@pytest.mark.parametrize("bad", [-1, "ten", True, 2.5])
def test_a_bad_history_setting_is_a_config_error(bad: Any) -> None:
    with pytest.raises(ConfigError, match=r"ci.history must be a whole number of runs >= 0"):
        history_runs_of({"ci": {"history": bad}})


def test_noise_models_count_the_verdicts_of_each_model(store: Store) -> None:
    verdicts = [*check_stored(store, "same", "main").verdicts, *check_stored(store, "slow", "main", history=0).verdicts]
    assert noise_models(verdicts) == "noise model: history of 10 runs (1 verdict); within-run only (1 verdict)"
    assert noise_models([]) == ""
