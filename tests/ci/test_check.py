"""check_with_margins: the gate against a named baseline with margins overridden, as one call."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import run_info, time_case

from calibrax.ci.check import CheckedRun, check_with_margins, policy_with_margins
from calibrax.core import ConfigError, NotFoundError, RunStatus, VerdictKind
from calibrax.storage import Store

CONFIG = {"thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.02}}}}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "c.db")
    for i, (run_id, center) in enumerate({"base": 1e-3, "same": 1e-3, "slow": 1.3e-3}.items()):
        store.begin_run(run_info(run_id, config=CONFIG, started_at=f"2026-11-26T00:00:{i:02d}+00:00"))
        store.add_case(run_id, time_case("m", {"n": 1}, center, seed=i))
        store.finish_run(run_id, RunStatus.OK, "2026-11-26T00:01:00+00:00")
    store.set_baseline("main", "base")
    return store


def test_a_margin_replaces_only_the_margin_of_its_measure() -> None:
    policy = policy_with_margins(CONFIG, {"time": 0.5, "flops": 0.0})
    assert (policy.rule("m", "time").margin, policy.rule("m", "time").alpha) == (0.5, 0.02)
    assert policy.rule("m", "flops").margin == 0.0
    assert policy.gate == ("time",)
    assert CONFIG["thresholds"]["measures"]["time"]["margin"] == 0.05  # type: ignore[index]  # the input is not changed


def test_no_thresholds_in_the_config_gives_the_defaults_with_the_margin() -> None:
    assert policy_with_margins({}, {"time": 0.3}).rule("m", "time").margin == 0.3


def test_a_bad_margin_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="margin"):
        policy_with_margins(CONFIG, {"time": -1.0})


def test_the_run_comes_back_with_its_verdicts_and_baseline(store: Store) -> None:
    checked = check_with_margins(store, "slow", "main")
    assert isinstance(checked, CheckedRun)
    [v] = checked.result.regressions
    assert v.kind is VerdictKind.REGRESSED
    assert checked.record.run.id == "slow" and checked.record.verdicts == checked.result.verdicts
    assert dict(checked.record.baseline) == {"name": "main", "run_id": "base"}
    assert store.load_verdicts("slow") == list(checked.result.verdicts)


def test_a_wider_margin_turns_the_regression_into_a_pass(store: Store) -> None:
    assert check_with_margins(store, "slow", "main", {"time": 0.5}).result.regressions == []
    assert check_with_margins(store, "same", "main", {}).result.counts["pass"] == 1


def test_unknown_run_or_baseline_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="Unknown baseline 'mian'"):
        check_with_margins(store, "slow", "mian")
    with pytest.raises(NotFoundError):
        check_with_margins(store, "ghost", "main", {"time": 0.1})
