"""Changepoints: a 5% step is found, pure noise rarely alarms, statistics match scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from calibrax.analysis import AnalysisError, HistoryPoint, detect_changepoints, history_from_runs
from calibrax.analysis.changepoint import _adjust, _energy_profile, _welch_profile
from calibrax.core import (
    STANDARD_MEASURES,
    CaseResult,
    CaseStatus,
    GitInfo,
    MeasureResult,
    RunInfo,
    RunRecord,
    RunStatus,
)


def noisy_history(seed: int, *, n: int = 60, step: float = 0.0, at: int = 30, cv: float = 0.015) -> list[HistoryPoint]:
    """Per-run medians of a benchmark with lognormal run-to-run noise and a step at ``at``."""
    rng = np.random.default_rng(seed)
    values = 0.012 * rng.lognormal(0.0, cv, n)
    values[at:] *= 1 + step
    return [HistoryPoint(f"run{i}", float(v), f"c{i:03d}") for i, v in enumerate(values)]


@pytest.mark.parametrize("method", ["binseg", "edivisive"])
@pytest.mark.parametrize("seed, at, cv", [(0, 30, 0.01), (1, 12, 0.02), (2, 47, 0.015), (3, 25, 0.02)])
def test_a_5_percent_step_is_found_at_the_right_run(method: str, seed: int, at: int, cv: float) -> None:
    history = noisy_history(seed, step=0.05, at=at, cv=cv)
    res = detect_changepoints(history, method=method, seed=seed)  # type: ignore[arg-type]
    assert len(res.changepoints) == 1
    cp = res.changepoints[0]
    assert abs(cp.index - at) <= 1
    assert cp.run_id == history[cp.index].run_id and cp.commit == history[cp.index].commit
    assert cp.relative_change == pytest.approx(0.05, abs=0.02)
    assert cp.before == pytest.approx(np.median([h.value for h in history[: cp.index]]))
    assert cp.after == pytest.approx(np.median([h.value for h in history[cp.index:]]))
    assert cp.p_value < 0.01 and cp.raw_p_value <= cp.p_value


@pytest.mark.parametrize("cv, min_exact", [(0.01, 10), (0.02, 8)])
def test_the_step_is_found_across_seeds_at_the_defaults(cv: float, min_exact: int) -> None:
    # At 2% CV a 5% step is 2.5 noise sigmas, and the data themselves can favour a split a few
    # runs away (in about 1 history in 8): the step is still found, close to the true run.
    found = [[c.index for c in detect_changepoints(noisy_history(300 + s, step=0.05, cv=cv)).changepoints]
             for s in range(10)]
    assert all(len(f) == 1 and abs(f[0] - 30) <= 3 for f in found), found
    assert sum(abs(f[0] - 30) <= 1 for f in found) >= min_exact, found


def test_pure_noise_rarely_gives_a_changepoint_at_the_defaults() -> None:
    alarms = [bool(detect_changepoints(noisy_history(100 + s, cv=0.02), seed=s).changepoints) for s in range(20)]
    assert sum(alarms) <= 1


def test_pure_noise_rarely_gives_an_e_divisive_changepoint() -> None:
    alarms = [bool(detect_changepoints(noisy_history(200 + s), method="edivisive", seed=s).changepoints)
              for s in range(20)]
    assert sum(alarms) <= 1


def test_two_steps_are_both_found_with_their_segment_medians() -> None:
    first_step = noisy_history(9, step=0.08, at=20, cv=0.01)
    history = [HistoryPoint(h.run_id, h.value * (0.85 if i >= 40 else 1.0), h.commit) for i, h in enumerate(first_step)]
    res = detect_changepoints(history, n_permutations=1999)
    assert [abs(c.index - t) <= 1 for c, t in zip(res.changepoints, (20, 40), strict=True)] == [True, True]
    first, second = res.changepoints
    assert first.after == pytest.approx(np.median([h.value for h in history[first.index:second.index]]))
    assert second.relative_change == pytest.approx(-0.15, abs=0.02)
    assert res.n_tested >= 3 and res.n == 60


def test_results_repeat_with_the_same_seed_and_accept_bare_values() -> None:
    values = [h.value for h in noisy_history(4, step=0.05)]
    a = detect_changepoints(values, n_permutations=499, seed=3)
    b = detect_changepoints(values, n_permutations=499, seed=3)
    assert a == b
    assert a.changepoints[0].run_id == str(a.changepoints[0].index) and a.changepoints[0].commit is None


def test_short_histories_have_no_changepoints() -> None:
    res = detect_changepoints([1.0] * 5 + [2.0] * 4)  # shorter than 2 * min_size
    assert res.changepoints == () and res.n_tested == 0
    assert detect_changepoints([]).n == 0


def test_a_clean_step_in_constant_values_is_found() -> None:
    res = detect_changepoints([1.0] * 8 + [1.2] * 8, n_permutations=999)
    assert [c.index for c in res.changepoints] == [8]
    assert res.changepoints[0].relative_change == pytest.approx(0.2)


def test_linear_scale_accepts_zero_and_negative_values() -> None:
    values = [0.0, -0.1, 0.1, 0.05, -0.05, 0.0, 0.02, -0.02] + [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98]
    res = detect_changepoints(values, log=False, n_permutations=999)
    assert [c.index for c in res.changepoints] == [8]


def test_welch_profile_matches_scipy_at_every_split() -> None:
    z = np.random.default_rng(5).normal(size=23)
    prof = _welch_profile(z, 4)
    expected = [abs(stats.ttest_ind(z[:k], z[k:], equal_var=False).statistic) for k in range(4, 20)]
    assert prof == pytest.approx(expected)
    batch = np.stack([z, z[::-1]])
    assert _welch_profile(batch, 4)[1] == pytest.approx(_welch_profile(z[::-1], 4))


def test_welch_profile_of_constant_segments() -> None:
    prof = _welch_profile(np.array([1.0] * 6 + [2.0] * 6), 3)
    assert np.all(np.isfinite(prof)) and prof[3] > 1e10 and np.argmax(prof) == 3
    assert _welch_profile(np.ones(10), 3).tolist() == [0.0] * 5


def test_energy_profile_matches_the_definition() -> None:
    z = np.random.default_rng(6).normal(size=14)
    m = z.size
    expected = []
    for k in range(3, m - 2):
        x, y = z[:k], z[k:]
        between = np.abs(x[:, None] - y[None, :]).mean()
        wx = np.abs(x[:, None] - x[None, :]).sum() / (k * (k - 1))
        wy = np.abs(y[:, None] - y[None, :]).sum() / ((m - k) * (m - k - 1))
        expected.append(k * (m - k) / m * (2 * between - wx - wy))
    assert _energy_profile(z, 3) == pytest.approx(expected)


def test_holm_and_bh_adjustments() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> cummax
    assert _adjust(p, "holm").tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert _adjust(np.array([0.6, 0.5]), "holm").tolist() == [1.0, 1.0]
    assert _adjust(p, "bh") == pytest.approx(stats.false_discovery_control(p, method="bh"))


def test_bh_correction_also_finds_the_step() -> None:
    res = detect_changepoints(noisy_history(11, step=0.05), correction="bh", n_permutations=999)
    assert res.correction == "bh" and [abs(c.index - 30) <= 1 for c in res.changepoints] == [True]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "pelt"}, "method must be 'binseg' or 'edivisive'"),
        ({"correction": "bonferroni"}, "correction must be 'holm' or 'bh'"),
        ({"alpha": 0.0}, "alpha must be between 0 and 1"),
        ({"min_size": 1}, "min_size must be at least 2"),
        ({"n_permutations": 0}, "n_permutations must be at least 1"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(AnalysisError, match=match):
        detect_changepoints([1.0] * 12, **kwargs)


def test_bad_values_are_refused() -> None:
    with pytest.raises(AnalysisError, match="positive"):
        detect_changepoints([1.0] * 11 + [0.0])
    with pytest.raises(AnalysisError, match="finite"):
        detect_changepoints([1.0] * 11 + [float("nan")], log=False)


def _run(i: int, value: float | None, status: CaseStatus = CaseStatus.OK) -> RunRecord:
    cases = []
    if value is not None:
        m = MeasureResult(STANDARD_MEASURES["time"], (value, value * 1.02, value * 0.98))
        cases = [CaseResult("matmul", {"n": 64}, status, {"time": m}),
                 CaseResult("matmul", {"n": 128}, CaseStatus.OK, {"time": m})]
    return RunRecord(RunInfo(f"r{i}", "", RunStatus.OK, GitInfo(f"c{i}")), tuple(cases))


def test_history_from_runs_takes_one_median_per_run_that_measured_the_case() -> None:
    runs = [_run(0, 1.0), _run(1, None), _run(2, 2.0, CaseStatus.ERROR), _run(3, 3.0)]
    hist = history_from_runs(runs, "matmul", {"n": 64})
    assert hist == (HistoryPoint("r0", 1.0, "c0"), HistoryPoint("r3", 3.0, "c3"))
    assert history_from_runs(runs, "matmul", {"n": 64}, measure="compile_time") == ()
    assert history_from_runs(runs, "mlp") == ()
