"""A run of two benchmarks or more forks its workers from one server (imports done once); a run of
one, or ``profile.isolation=none``, starts none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from calibrax.core.models import CaseStatus
from calibrax.runner import run_benchmarks
from calibrax.runner.config import load_config
from calibrax.runner.executors import worker_server
from calibrax.runner.plan import PlannedBenchmark

MODULE = '''
import os
import calibrax


def _note():
    with open(os.environ["WS_PARENTS"], "a") as f:
        f.write(f"{os.getppid()}\\n")
    return calibrax.Workload(lambda: None)


@calibrax.benchmark("first", params={"n": [1]})
def first(n):
    return _note()


@calibrax.benchmark("second", params={"n": [1]})
def second(n):
    return _note()
'''

QUICK = {"min_rounds": 3, "min_time": 0.0, "warmup_time": 0.0, "min_round_time": 0.0001}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wsbench.py").write_text(MODULE)
    conf = tmp_path / "conf" / "benchmark"
    conf.mkdir(parents=True)
    for name in ("first", "second"):
        (conf / f"{name}.yaml").write_text("source: wsbench\nparams:\n  n: [1]\n")
    monkeypatch.setenv("WS_PARENTS", str(tmp_path / "parents.txt"))
    monkeypatch.chdir(tmp_path)  # a source module is found from the working folder, as calibrax-run finds it
    return tmp_path


def _parents(project: Path, benchmarks: list[str]) -> list[int]:
    outcome = run_benchmarks({"benchmarks": benchmarks, "profile": QUICK, "exporters": []}, cwd=project)
    assert [c.status for c in outcome.cases] == [CaseStatus.OK] * len(benchmarks)
    return [int(line) for line in (project / "parents.txt").read_text().split()]


def test_the_workers_of_a_run_of_two_benchmarks_are_forked_from_one_server(project: Path) -> None:
    parents = _parents(project, ["first", "second"])
    assert len(parents) == 2 and parents[0] == parents[1] != os.getpid()  # both children of the server


def test_a_run_of_one_benchmark_starts_its_worker_plainly(project: Path) -> None:
    assert _parents(project, ["first"]) == [os.getpid()]


def test_no_server_without_two_benchmarks_with_cases_or_with_isolation_none(tmp_path: Path) -> None:
    cfg = load_config({})
    one = PlannedBenchmark("a", "m", ({"n": 1},))
    empty = PlannedBenchmark("b", "m", ())
    assert worker_server(cfg, tmp_path, [one, empty]) is None
    none = load_config({"profile": {"isolation": "none"}})
    assert worker_server(none, tmp_path, [one, one]) is None
