"""Each committed file of the real tools (tests/fixtures/interop) read back field by field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from calibrax.core import CaseStatus, RunStatus
from calibrax.interop import ImportOrigin, origin_of, read_asv, read_google_benchmark, read_pytest_benchmark
from calibrax.interop.google_benchmark import split_run_name

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "interop"


def test_pytest_benchmark_json_keeps_every_round_as_a_sample() -> None:
    path = FIXTURES / "pytest_benchmark.json"
    raw = json.loads(path.read_text())
    imported = read_pytest_benchmark(path)
    assert [(c.benchmark, dict(c.params)) for c in imported.cases] == [
        ("test_small.py::test_sum", {"n": 100}), ("test_small.py::test_sum", {"n": 1000}),
        ("test_small.py::test_plain", {})]
    for case, bench in zip(imported.cases, raw["benchmarks"], strict=True):
        time = case.measures["time"]
        assert case.status is CaseStatus.OK and time.measure.unit == "s"
        assert time.samples == tuple(bench["stats"]["data"])
        assert time.summary is not None and time.summary.n == bench["stats"]["rounds"] == 5
        assert time.summary.median == pytest.approx(bench["stats"]["median"])
        assert time.summary.min == bench["stats"]["min"] and time.summary.max == bench["stats"]["max"]
        assert time.meta["iterations"] == bench["stats"]["iterations"]
        assert time.provenance.source == f"pytest-benchmark {raw['version']}"
    run = imported.run
    assert run.git.commit == raw["commit_info"]["id"] and run.git.branch == raw["commit_info"]["branch"]
    assert run.git.dirty is raw["commit_info"]["dirty"] and run.status is RunStatus.OK
    assert run.started_at.startswith(raw["datetime"][:19])
    hw = raw["machine_info"]
    assert run.hardware is not None and run.hardware.cpu_model == hw["cpu"]["brand_raw"]
    assert run.hardware.cpu_count == hw["cpu"]["count"] and run.hardware.python == hw["python_version"]
    assert run.hardware.platform == f"{hw['system']}-{hw['release']}-{hw['machine']}"
    assert origin_of(run) == ImportOrigin("pytest-benchmark", raw["version"], str(path.absolute()),
                                          {"commit": raw["commit_info"]["id"], "machine_id": "interop",
                                           "file": path.name})


def test_pytest_benchmark_autosave_without_data_stores_summaries_and_no_samples() -> None:
    path = FIXTURES / "pytest_benchmark_autosave.json"
    raw = json.loads(path.read_text())
    imported = read_pytest_benchmark(path)
    for case, bench in zip(imported.cases, raw["benchmarks"], strict=True):
        time, stats = case.measures["time"], bench["stats"]
        assert "data" not in stats and time.samples == ()
        assert time.summary is not None
        assert (time.summary.n, time.summary.median, time.summary.mean, time.summary.std, time.summary.iqr) == (
            stats["rounds"], stats["median"], stats["mean"], stats["stddev"], stats["iqr"])
        assert math.isnan(time.summary.ci_low) and math.isnan(time.summary.mad) and time.meta["summary_only"]


def test_google_benchmark_repetitions_are_samples_and_errors_are_stored_as_errors() -> None:
    path = FIXTURES / "google_benchmark.json"
    raw = json.loads(path.read_text())
    imported = read_google_benchmark(path)
    by_key = {(c.benchmark, tuple(c.params.items())): c for c in imported.cases}
    assert set(by_key) == {("sum_range", (("n", 64),)), ("sum_range", (("n", 512),)), ("broken", ())}
    for n in (64, 512):
        rows = [b for b in raw["benchmarks"] if b["run_name"] == f"sum_range/n:{n}"]
        time = by_key[("sum_range", (("n", n),))].measures["time"]
        reps = [b["real_time"] * 1e-9 for b in rows if b["run_type"] == "iteration"]
        assert time.samples == pytest.approx(reps) and len(reps) == 3
        median = next(b for b in rows if b.get("aggregate_name") == "median")["real_time"] * 1e-9
        assert time.summary is not None and time.summary.median == pytest.approx(median)
        assert time.meta["iterations"] == [b["iterations"] for b in rows if b["run_type"] == "iteration"]
    broken = by_key[("broken", ())]
    assert broken.status is CaseStatus.ERROR and broken.error == "broken input" and not broken.measures
    assert imported.run.status is RunStatus.FAILED
    ctx = raw["context"]
    assert imported.run.hardware is not None and imported.run.hardware.cpu_count == ctx["num_cpus"]
    assert imported.run.hardware.extra["mhz_per_cpu"] == ctx["mhz_per_cpu"]
    assert imported.origin.original_ids["host_name"] == ctx["host_name"]
    assert imported.run.config["library_version"] == ctx["library_version"]


def test_google_benchmark_aggregates_only_keep_their_count_without_invented_samples() -> None:
    path = FIXTURES / "google_benchmark_aggregates.json"
    raw = json.loads(path.read_text())
    case = next(c for c in read_google_benchmark(path).cases if c.params == {"n": 512})
    rows = {b.get("aggregate_name"): b for b in raw["benchmarks"] if b["run_name"] == "sum_range/n:512"}
    time = case.measures["time"]
    assert time.samples == () and time.summary is not None and time.summary.n == 3
    assert time.summary.mean == pytest.approx(rows["mean"]["real_time"] * 1e-9)
    assert time.summary.median == pytest.approx(rows["median"]["real_time"] * 1e-9)
    assert time.summary.std == pytest.approx(rows["stddev"]["real_time"] * 1e-9)
    assert math.isnan(time.summary.min)


def test_google_benchmark_run_names_split_into_params() -> None:
    assert split_run_name("BM_copy/8/threads:4") == ("BM_copy", {"arg0": 8, "threads": 4})
    assert split_run_name("BM_x/dtype:f32/1.5") == ("BM_x", {"dtype": "f32", "arg0": 1.5})


def test_asv_results_folder_reads_samples_failures_and_skips() -> None:
    folder = FIXTURES / "asv_results"
    result_file = next((folder / "testbox").glob("*-existing*.json"))
    raw = json.loads(result_file.read_text())
    [imported] = read_asv(folder)
    cases = {(c.benchmark, tuple(c.params.items())): c for c in imported.cases}
    row = dict(zip(raw["result_columns"], raw["results"]["bench.TimeSleep.time_sleep"], strict=False))
    for i, factor in enumerate((1, 2)):
        time = cases[("bench.TimeSleep.time_sleep", (("factor", factor),))].measures["time"]
        assert time.samples == tuple(row["samples"][i]) and len(time.samples) == row["stats_repeat"][i]
        assert time.summary is not None and time.summary.median == pytest.approx(np.median(row["samples"][i]))
    assert cases[("bench.time_broken", ())].status is CaseStatus.ERROR
    assert cases[("bench.TimeSkipped.time_never", ())].status is CaseStatus.SKIPPED
    run = imported.run
    assert run.git.commit == raw["commit_hash"] and run.started_at == "2026-01-02T00:00:00+00:00"
    assert run.hardware is not None and run.hardware.cpu_model == "Test CPU" and run.hardware.extra["machine"] == "testbox"
    assert imported.origin.original_ids == {"commit_hash": raw["commit_hash"], "env_name": raw["env_name"],
                                            "machine": "testbox"}
    assert imported.origin.format_version == "2" and run.status is RunStatus.FAILED


def test_asv_without_samples_keeps_the_median_and_the_count(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    (folder / "testbox").mkdir(parents=True)
    source = FIXTURES / "asv_results"
    (folder / "benchmarks.json").write_text((source / "benchmarks.json").read_text())
    (folder / "testbox" / "machine.json").write_text((source / "testbox" / "machine.json").read_text())
    result_file = next((source / "testbox").glob("*-existing*.json"))
    raw = json.loads(result_file.read_text())
    row = raw["results"]["bench.TimeSleep.time_sleep"]
    raw["results"]["bench.TimeSleep.time_sleep"] = row[:11]  # as asv writes it without --record-samples
    (folder / "testbox" / result_file.name).write_text(json.dumps(raw))
    [imported] = read_asv(folder)
    time = imported.cases[1].measures["time"]
    assert time.samples == () and time.summary is not None
    assert (time.summary.n, time.summary.median) == (row[10][0], row[0][0])
    assert time.summary.iqr == pytest.approx(row[8][0] - row[7][0])
    assert time.meta["ci_99"] == [row[5][0], row[6][0]] and math.isnan(time.summary.ci_low)


def test_asv_version_1_files_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    (folder / "box").mkdir(parents=True)
    (folder / "benchmarks.json").write_text(json.dumps({
        "b.time_a": {"name": "b.time_a", "type": "time", "unit": "seconds", "param_names": ["n"], "params": [["1", "2"]]},
        "b.time_b": {"name": "b.time_b", "type": "time", "unit": "seconds", "param_names": [], "params": []},
        "version": 1}))
    (folder / "box" / "machine.json").write_text(json.dumps({"machine": "box", "cpu": "Old CPU", "num_cpu": "4",
                                                             "version": 1}))
    v1 = {"commit_hash": "a" * 40, "date": 1500000000000, "python": "3.6", "version": 1, "params": {},
          "results": {"b.time_a": {"result": [0.5, None], "params": [["1", "2"]],
                                   "stats": [{"q_25": 0.4, "q_75": 0.6, "repeat": 7, "ci_99": [0.3, 0.7]}, None]},
                      "b.time_b": 0.25}}
    (folder / "box" / "aaaaaaaa-py3.6.json").write_text(json.dumps(v1))
    [imported] = read_asv(folder)
    first, failed, plain = imported.cases
    assert first.params == {"n": 1} and first.measures["time"].summary.n == 7  # type: ignore[union-attr]
    assert first.measures["time"].summary.iqr == pytest.approx(0.2)  # type: ignore[union-attr]
    assert failed.params == {"n": 2} and failed.status is CaseStatus.ERROR
    assert plain.measures["time"].summary.median == 0.25  # type: ignore[union-attr]
    assert imported.run.hardware.cpu_count == 4 and imported.origin.format_version == "1"  # type: ignore[union-attr]
