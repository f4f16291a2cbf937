from __future__ import annotations

from pathlib import Path

import pytest
from factories import run_info, time_case

from calibrax.analysis import GatePolicy
from calibrax.ci import check_run, policy_from_config, summary_lines
from calibrax.core import ConfigError, NotFoundError, RunStatus, VerdictKind
from calibrax.storage import Store


def _store(tmp_path: Path, centers: dict[str, float]) -> Store:
    store = Store.open(tmp_path / "c.db")
    for i, (run_id, center) in enumerate(centers.items()):
        store.begin_run(run_info(run_id, started_at=f"2026-11-26T00:00:{i:02d}+00:00"))
        store.add_case(run_id, time_case("m", {"n": 1}, center, seed=i))
        store.finish_run(run_id, RunStatus.OK, "2026-11-26T00:01:00+00:00")
    return store


def test_check_run_uses_the_statistical_verdict_and_stores_it(tmp_path: Path) -> None:
    with _store(tmp_path, {"base": 1e-3, "same": 1e-3, "slow": 1.3e-3}) as store:
        store.set_baseline("main", "base")
        assert [v.kind for v in check_run(store, "same", "main").verdicts] == [VerdictKind.PASS]
        result = check_run(store, "slow", "main")
        [v] = result.regressions
        assert v.kind is VerdictKind.REGRESSED and v.ci_low is not None and v.ci_low > 1.05
        assert v.p_value is not None and v.p_value < 0.01 and v.details["cliffs_label"] == "large"
        assert result.counts["regressed"] == 1
        stored = store.load_verdicts("slow")
        assert stored == list(result.verdicts)
        assert summary_lines(result)[0].startswith("REGRESSED m {'n': 1} time:")
        with pytest.raises(NotFoundError, match="Unknown baseline 'mian'"):
            check_run(store, "slow", "mian")


def test_an_explicit_policy_wins_over_the_stored_config(tmp_path: Path) -> None:
    with _store(tmp_path, {"base": 1e-3, "slow": 1.3e-3}) as store:
        store.set_baseline("main", "base")
        loose = GatePolicy.from_config({"measures": {"time": {"margin": 0.5}}})
        assert [v.kind for v in check_run(store, "slow", "main", loose).verdicts] == [VerdictKind.PASS]


def test_policy_from_a_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"thresholds.measures.time.margin must be a number"):
        policy_from_config({"thresholds": {"measures": {"time": {"margin": "lots"}}}})
