"""The bisection algorithm over a synthetic history of commit speeds (real git: tests/e2e)."""

from __future__ import annotations

import pytest

from calibrax.ci import bisect, worst
from calibrax.core import ConfigError, Verdict, VerdictKind


def _v(kind: VerdictKind, ratio: float = 1.0) -> Verdict:
    return Verdict("b", {}, "time", kind, ratio, 1.0, ratio, 0.05, kind.value)


def _compare(speed: dict[str, float], undecided: set[tuple[str, str]] | None = None, log: list | None = None):  # type: ignore[no-untyped-def]
    def compare(older: str, newer: str) -> Verdict:
        if log is not None:
            log.append((older, newer))
        if undecided and (older, newer) in undecided:
            return _v(VerdictKind.INCONCLUSIVE)
        ratio = speed[newer] / speed[older]
        return _v(VerdictKind.REGRESSED if ratio > 1.1 else VerdictKind.PASS, ratio)

    return compare


COMMITS = [f"c{i}" for i in range(10)]


@pytest.mark.parametrize("first_bad", range(1, 10))
def test_finds_the_first_slow_commit_wherever_it_is(first_bad: int) -> None:
    speed = {c: (1.0 if i < first_bad else 1.5) for i, c in enumerate(COMMITS)}
    log: list[tuple[str, str]] = []
    result = bisect(COMMITS, _compare(speed, log=log))
    assert result.first_bad == f"c{first_bad}" and result.last_good == f"c{first_bad - 1}"
    assert result.effect is not None and result.effect.kind is VerdictKind.REGRESSED
    assert log[0] == ("c0", "c9")  # both ends re-tested first
    assert len(log) <= 2 + 4  # ends, log2(10) rounded up, and the effect


@pytest.mark.parametrize(("commits", "measured"), [
    (["c0", "c1"], [("c0", "c1")]),  # the ends are the effect
    (["c0", "c1", "c2"], [("c0", "c2"), ("c0", "c1")]),  # the midpoint against the good end is the effect
])
def test_a_pair_is_measured_once(commits: list[str], measured: list[tuple[str, str]]) -> None:
    log: list[tuple[str, str]] = []
    result = bisect(commits, _compare({"c0": 1.0, "c1": 1.5, "c2": 1.5}, log=log))
    assert result.first_bad == "c1" and log == measured
    assert [(s.older, s.newer) for s in result.steps] == measured and result.effect is result.steps[-1].verdict


def test_an_undecided_midpoint_is_checked_against_the_bad_end() -> None:
    speed = {c: (1.0 if i < 7 else 1.5) for i, c in enumerate(COMMITS)}
    result = bisect(COMMITS, _compare(speed, undecided={("c0", "c4")}))
    assert result.first_bad == "c7"
    assert any(s.older == "c4" and s.newer == "c9" for s in result.steps)


def test_no_regression_between_the_ends() -> None:
    speed = dict.fromkeys(COMMITS, 1.0)
    result = bisect(COMMITS, _compare(speed))
    assert result.first_bad is None and "is not slower than" in result.message and len(result.steps) == 1


def test_worst_prefers_regressions_then_undecided() -> None:
    assert worst([_v(VerdictKind.PASS), _v(VerdictKind.REGRESSED, 1.3), _v(VerdictKind.REGRESSED, 1.6)]).ratio == 1.6
    assert worst([_v(VerdictKind.PASS), _v(VerdictKind.INCONCLUSIVE)]).kind is VerdictKind.INCONCLUSIVE
    with pytest.raises(ConfigError, match="no verdicts"):
        worst([])
    with pytest.raises(ConfigError, match="needs a good and a later bad commit"):
        bisect(["c0"], _compare({}))
