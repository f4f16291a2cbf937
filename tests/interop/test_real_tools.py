"""The real pytest-benchmark, Google Benchmark and asv write files; calibrax imports them, and its
exports load in ``pytest-benchmark compare`` and ``asv publish``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import real_tools as tools

from calibrax.core import CaseStatus
from calibrax.interop import export_run, import_path
from calibrax.storage import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "interop"


@pytest.mark.slow
def test_pytest_benchmark_json_and_saved_data_import_field_by_field(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    done = tools.pytest_benchmark(folder, f"--benchmark-json={tmp_path / 'out.json'}", "--benchmark-autosave",
                                  "--benchmark-save-data")
    assert "1 failed, 3 passed" in done.stdout, done.stdout
    saved = next((folder / ".benchmarks").rglob("*.json"))
    with Store.open(tmp_path / "calibrax.db") as store:
        for path in (tmp_path / "out.json", folder / ".benchmarks"):
            raw = json.loads((path if path.is_file() else saved).read_text())
            report = import_path(store, path)
            assert report.format == "pytest-benchmark" and len(report.added) == 1
            record = store.load_run(report.added[0])
            assert record.run.git.commit == raw["commit_info"]["id"]
            assert [c.measures["time"].samples for c in record.cases] == [
                tuple(b["stats"]["data"]) for b in raw["benchmarks"]]
            assert [c.measures["time"].summary.n for c in record.cases] == [  # type: ignore[union-attr]
                b["stats"]["rounds"] for b in raw["benchmarks"]]
            assert {c.benchmark for c in record.cases} == {"test_small.py::test_sum", "test_small.py::test_plain"}
            assert import_path(store, path).added == []
        assert len(store.list_runs()) == 2


def test_google_benchmark_repetitions_aggregates_and_errors_import(tmp_path: Path) -> None:
    raw = tools.google_benchmark(tmp_path, tmp_path / "gb.json", "--benchmark_repetitions=4")
    with Store.open(tmp_path / "calibrax.db") as store:
        report = import_path(store, tmp_path / "gb.json")
        record = store.load_run(report.added[0])
        assert import_path(store, tmp_path / "gb.json").added == []
    cases = {(c.benchmark, json.dumps(dict(c.params))): c for c in record.cases}
    for n in (64, 512):
        rows = [b for b in raw["benchmarks"] if b["run_name"] == f"sum_range/n:{n}"]
        reps = [b["real_time"] * 1e-9 for b in rows if b["run_type"] == "iteration"]
        time = cases[("sum_range", json.dumps({"n": n}))].measures["time"]
        assert len(reps) == 4 and time.samples == pytest.approx(reps)
        mean = next(b for b in rows if b.get("aggregate_name") == "mean")["real_time"] * 1e-9
        assert time.summary is not None and time.summary.mean == pytest.approx(mean)
    broken = cases[("broken", "{}")]
    assert broken.status is CaseStatus.ERROR and broken.error == "broken input"
    assert record.run.hardware is not None and record.run.hardware.cpu_count == raw["context"]["num_cpus"]


@pytest.mark.slow  # pytest-benchmark's command starts pytest: about 5 s on a loaded machine
def test_exported_pytest_benchmark_json_loads_in_pytest_benchmark_compare(tmp_path: Path) -> None:
    with Store.open(tmp_path / "calibrax.db") as store:
        run_id = import_path(store, FIXTURES / "asv_results").added[0]
        out = tmp_path / "0001_exported.json"
        export_run(store, run_id, "pytest-benchmark", out)
    done = tools.run([str(tools.BIN / "pytest-benchmark"), "compare", str(out), "--columns=median,rounds"], tmp_path)
    assert "bench.TimeSleep.time_sleep[1]" in done.stdout and "bench.TimeSleep.time_sleep[2]" in done.stdout
    assert "benchmark: 2 tests" in done.stdout


def test_exported_asv_results_load_in_asv_publish(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "asv.conf.json").write_text(json.dumps(tools.ASV_CONF))
    tools.git_repo(project)
    commit = tools.run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    data = json.loads((FIXTURES / "pytest_benchmark.json").read_text())
    data["commit_info"]["id"] = commit
    (tmp_path / "pb.json").write_text(json.dumps(data))
    with Store.open(tmp_path / "calibrax.db") as store:
        run_id = import_path(store, tmp_path / "pb.json").added[0]
        export_run(store, run_id, "asv", project / "results")
    tools.run([str(tools.BIN / "asv"), "publish"], project, {"HOME": str(tmp_path)})
    graphs = list((project / "html" / "graphs").rglob("test_small.py__test_sum.json"))
    series = json.loads(next(g for g in graphs if "branch-main" in str(g)).read_text())
    medians = [b["stats"]["median"] for b in data["benchmarks"] if b["name"].startswith("test_sum")]
    assert series[0][1] == pytest.approx(sorted(medians))


# The benchmark's timer is asv's pluggable ``timer`` attribute: a clock that the benchmark advances by
# its work size (with +-1.5% random noise). On a shared two-core machine even CPU time doubles when
# another process takes the sibling core, which would bury a 20% step; asv still runs, samples and
# writes the results as it does for any benchmark, which is what the import is tested on.
BENCH_STEP = '''
import os
import pathlib
import random

SIZE = int(float((pathlib.Path(__file__).parent.parent / "delay.txt").read_text()))
_rng = random.Random(os.getpid())
_clock = [0.0]


def work_clock():
    return _clock[0]


def time_work():
    _clock[0] += SIZE * 1e-8 * (1 + 0.03 * (_rng.random() - 0.5))


time_work.timer = work_clock
time_work.number = 1
time_work.repeat = 20
time_work.rounds = 1
time_work.warmup_time = 0.0
'''


@pytest.mark.slow
def test_asv_history_of_12_commits_shows_the_planted_step(tmp_path: Path) -> None:
    project = tools.asv_project(tmp_path / "proj", delay=100000, bench=BENCH_STEP)
    commits = []
    for i in range(12):
        (project / "delay.txt").write_text("120000" if i >= 6 else "100000")  # +20% work from the 7th commit on
        commits.append(tools.commit(project, f"commit {i}", f"2026-02-{i + 1:02d}T00:00:00+00:00"))
        tools.asv_run(project, commits[-1])
    db = tmp_path / "calibrax.db"
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = tools.run([str(tools.BIN / "calibrax"), "import", str(project / "results"), "--db", str(db),
                      "--baseline", "asv-head"], tmp_path, env)
    assert "Imported 12 new run(s) of 12" in done.stdout
    again = tools.run([str(tools.BIN / "calibrax"), "import", str(project / "results"), "--db", str(db)], tmp_path, env)
    assert "Imported 0 new run(s) of 12" in again.stdout and "nothing was added" in again.stdout
    shown = tools.run([str(tools.BIN / "calibrax"), "history", "bench.time_work", "--db", str(db), "--json"],
                      tmp_path, env)
    [case] = json.loads(shown.stdout)
    assert [r["git_commit"] for r in case["runs"]] == commits
    assert [cp["index"] for cp in case["changepoints"]] == [6]
    assert case["changepoints"][0]["relative_change"] == pytest.approx(0.2, abs=0.06)
    text = tools.run([str(tools.BIN / "calibrax"), "history", "bench.time_work", "--db", str(db)], tmp_path, env)
    assert "<- changepoint +" in text.stdout
    with Store.open(db) as store:
        store.set_baseline("before-step", next(r.id for r in store.list_runs() if r.git.commit == commits[0]))
    gate = tools.run([str(tools.BIN / "calibrax"), "check", "latest", "--baseline", "before-step", "--db", str(db)],
                     tmp_path, env, check=False)
    assert gate.returncode == 1 and "REGRESSED bench.time_work" in gate.stdout, gate.stdout + gate.stderr
