from __future__ import annotations

import pytest
from factories import hardware, record, run_info, time_case

from calibrax.ci import Thresholds, check_run, compare_records
from calibrax.core import STANDARD_MEASURES, ConfigError, MeasureResult, NotFoundError, RunStatus, VerdictKind
from calibrax.statistics import summarize
from calibrax.storage import Store

T = Thresholds(gate=("time",), margins={"time": 0.25})


def _kinds(cand: float, base: float = 1e-3, thresholds: Thresholds = T) -> list[VerdictKind]:
    c = record("c", [time_case("m", {"n": 1}, cand)])
    b = record("b", [time_case("m", {"n": 1}, base, seed=1)])
    return [v.kind for v in compare_records(c, b, thresholds)]


@pytest.mark.parametrize(
    "cand, expected",
    [(1e-3, VerdictKind.PASS), (1.1e-3, VerdictKind.PASS), (2e-3, VerdictKind.REGRESSED), (0.5e-3, VerdictKind.IMPROVED)],
)
def test_ratio_rule(cand: float, expected: VerdictKind) -> None:
    assert _kinds(cand) == [expected]


def test_higher_is_better_measures_are_inverted() -> None:
    def with_throughput(rate: float, seed: int) -> object:
        case = time_case("m", {}, 1e-3, seed=seed)
        samples = (rate,) * 5
        m = MeasureResult(STANDARD_MEASURES["throughput"], samples, summarize(samples))
        return type(case)(case.benchmark, case.params, case.status, {**case.measures, "throughput": m})

    th = Thresholds(gate=("throughput",), margins={"throughput": 0.1})
    c, b = record("c", [with_throughput(50.0, 0)]), record("b", [with_throughput(100.0, 1)])  # type: ignore[list-item]
    [v] = compare_records(c, b, th)
    assert v.kind is VerdictKind.REGRESSED and v.ratio == pytest.approx(0.5)


def test_per_benchmark_margin_wins() -> None:
    th = Thresholds(gate=("time",), margins={"time": 0.25}, benchmarks={"m": {"time": 1.5}})
    assert _kinds(2e-3, thresholds=th) == [VerdictKind.PASS]


def test_missing_cases_on_either_side() -> None:
    c = record("c", [time_case("a", {}, 1e-3), time_case("new", {}, 1e-3)])
    b = record("b", [time_case("a", {}, 1e-3, seed=2), time_case("gone", {}, 1e-3)])
    kinds = {(v.benchmark, v.kind) for v in compare_records(c, b, T)}
    assert kinds == {("a", VerdictKind.PASS), ("new", VerdictKind.MISSING), ("gone", VerdictKind.MISSING)}


def test_different_hardware_is_incomparable_not_failed() -> None:
    c = record("c", [time_case("m", {}, 5e-3)], hw=hardware(cpu_count=64))
    b = record("b", [time_case("m", {}, 1e-3)])
    [v] = compare_records(c, b, T)
    assert v.kind is VerdictKind.INCOMPARABLE and not v.failed


@pytest.mark.parametrize(
    "cfg, match",
    [
        ({"gate": ["time"], "margins": {"time": "lots"}}, "thresholds.margins.time must be a fraction"),
        ({"gate": ["time"], "margins": {"time": -0.1}}, "must be a fraction >= 0"),
        ({"gate": ["energy"], "margins": {"time": 0.1}}, r"gate lists \['energy'\] without a margin"),
    ],
)
def test_bad_thresholds_are_config_errors(cfg: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Thresholds.from_config(cfg)


def test_check_run_stores_verdicts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "c.db") as store:
        for run_id, center in (("base", 1e-3), ("cand", 3e-3)):
            store.begin_run(run_info(run_id, started_at=f"2026-11-26T00:00:0{len(run_id)}+00:00"))
            store.add_case(run_id, time_case("m", {"n": 1}, center))
            store.finish_run(run_id, RunStatus.OK, "2026-11-26T00:01:00+00:00")
        store.set_baseline("main", "base")
        result = check_run(store, "cand", "main")
        assert [v.kind for v in result.regressions] == [VerdictKind.REGRESSED]
        assert result.counts["regressed"] == 1
        assert [v.kind for v in store.load_verdicts("cand")] == [VerdictKind.REGRESSED]
        with pytest.raises(NotFoundError, match="Unknown baseline 'mian'"):
            check_run(store, "cand", "mian")
