"""Imports through the store: idempotent, read back by history and check, and written back out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from factories import add_run

from calibrax.ci import check_run
from calibrax.ci.history import benchmark_history
from calibrax.core import CaseStatus, NotFoundError, RunInfo, RunStatus, VerdictKind
from calibrax.interop import (
    InteropError,
    detect_format,
    export_run,
    import_path,
    origin_of,
    read_asv,
    read_pytest_benchmark,
)
from calibrax.storage import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "interop"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "calibrax.db") as s:
        yield s


@pytest.mark.parametrize(("name", "fmt"), [("pytest_benchmark.json", "pytest-benchmark"),
                                           ("google_benchmark.json", "google-benchmark"),
                                           ("asv_results", "asv")])
def test_a_second_import_adds_nothing(store: Store, name: str, fmt: str) -> None:
    first = import_path(store, FIXTURES / name)
    assert first.format == fmt and len(first.added) == 1
    stored = store.load_run(first.added[0])
    assert len(stored.cases) == first.entries[0].cases and origin_of(stored.run) is not None
    again = import_path(store, FIXTURES / name)
    assert again.added == [] and [e.run_id for e in again.entries] == first.added
    assert len(store.list_runs()) == 1


def test_stored_cases_equal_the_records_read(store: Store) -> None:
    path = FIXTURES / "pytest_benchmark_autosave.json"
    report = import_path(store, path)
    stored = store.load_run(report.added[0])
    read = read_pytest_benchmark(path)
    assert stored.run.status is RunStatus.OK and stored.run.git == read.run.git
    assert stored.run.hardware is not None and read.run.hardware is not None
    assert stored.run.hardware.fingerprint == read.run.hardware.fingerprint
    for got, want in zip(stored.cases, read.cases, strict=True):
        assert got.key == want.key and got.measures["time"].samples == ()
        assert got.measures["time"].summary.n == want.measures["time"].summary.n == 5  # type: ignore[union-attr]


def test_a_pytest_benchmark_folder_and_a_baseline(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "pytest_benchmark.json", folder / "0001_a.json")
    shutil.copy(FIXTURES / "pytest_benchmark_autosave.json", folder / "0002_b.json")
    assert detect_format(tmp_path / ".benchmarks") == "pytest-benchmark"
    report = import_path(store, tmp_path / ".benchmarks", baseline="main")
    assert len(report.added) == 2 and report.baseline == "main"
    newest = max(report.entries, key=lambda e: e.started_at)
    assert store.get_baseline("main").run_id == newest.run_id == report.entries[-1].run_id


def test_check_gates_an_imported_run_against_an_imported_baseline(store: Store, tmp_path: Path) -> None:
    import_path(store, FIXTURES / "pytest_benchmark.json", baseline="main")
    slower = json.loads((FIXTURES / "pytest_benchmark.json").read_text())
    for bench in slower["benchmarks"]:
        if bench["name"] == "test_sum[1000]":
            bench["stats"]["data"] = [2 * v for v in bench["stats"]["data"]]
    slower["datetime"] = "2030-01-01T00:00:00+00:00"
    (tmp_path / "slower.json").write_text(json.dumps(slower))
    new = import_path(store, tmp_path / "slower.json").added[0]
    result = check_run(store, new, "main")
    kinds = {(v.benchmark, json.dumps(dict(v.params))): v.kind for v in result.verdicts}
    assert kinds[("test_small.py::test_sum", '{"n": 1000}')] is VerdictKind.REGRESSED
    assert kinds[("test_small.py::test_sum", '{"n": 100}')] is not VerdictKind.REGRESSED


def test_check_against_a_summary_only_baseline_says_why_it_cannot_decide(store: Store) -> None:
    import_path(store, FIXTURES / "pytest_benchmark_autosave.json", baseline="old")
    new = import_path(store, FIXTURES / "pytest_benchmark.json").added[0]
    verdicts = check_run(store, new, "old").verdicts
    assert len(verdicts) == 3 and {v.kind for v in verdicts} == {VerdictKind.INCONCLUSIVE}
    assert all("baseline holds only a summary of 5 samples" in v.message for v in verdicts)


def test_history_reads_summary_only_runs_with_their_count(store: Store) -> None:
    import_path(store, FIXTURES / "pytest_benchmark_autosave.json")
    found = benchmark_history(store, "test_small.py::test_sum", params={"n": 1000})
    [case] = found.cases
    raw = json.loads((FIXTURES / "pytest_benchmark_autosave.json").read_text())
    assert case.runs[0].n == 5 and case.runs[0].median == raw["benchmarks"][1]["stats"]["median"]
    assert case.runs[0].ci_low is None


def test_pytest_benchmark_export_reads_back_to_the_same_cases(store: Store, tmp_path: Path) -> None:
    run_id = import_path(store, FIXTURES / "pytest_benchmark.json").added[0]
    out = tmp_path / "out" / "0001_export.json"
    report = export_run(store, run_id, "pytest-benchmark", out)
    assert report.files == (str(out),) and report.benchmarks == 3
    back = read_pytest_benchmark(out)
    original = store.load_run(run_id)
    assert [c.key for c in back.cases] == [c.key for c in original.cases]
    assert [c.measures["time"].samples for c in back.cases] == [c.measures["time"].samples for c in original.cases]
    assert back.run.git.commit == original.run.git.commit


def test_asv_export_reads_back_with_failures(store: Store, tmp_path: Path) -> None:
    run_id = import_path(store, FIXTURES / "asv_results").added[0]
    dest = tmp_path / "results"
    export_run(store, run_id, "asv", dest)
    [back] = read_asv(dest)
    original = store.load_run(run_id)
    assert back.run.git.commit == original.run.git.commit
    got = {c.key: c for c in back.cases}
    for case in original.cases:
        assert got[case.key].status is case.status
        if case.status is CaseStatus.OK:
            assert got[case.key].measures["time"].samples == case.measures["time"].samples


def test_asv_export_of_a_calibrax_run_keeps_every_param_point(store: Store, tmp_path: Path) -> None:
    add_run(store, "native", 1e-3, "01")
    written = export_run(store, "native", "asv", tmp_path / "results").files
    benchmarks = json.loads(Path(written[0]).read_text())
    assert benchmarks["matmul"]["param_names"] == ["n"] and benchmarks["matmul"]["params"] == [["128"]]
    [back] = read_asv(tmp_path / "results")
    assert {c.key for c in back.cases} == {c.key for c in store.load_run("native").cases}


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not JSON of pytest-benchmark, asv or Google Benchmark"),
    ('{"some": "thing"}', "is not JSON of pytest-benchmark, asv or Google Benchmark"),
])
def test_files_of_no_known_tool_are_refused(store: Store, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(InteropError, match=message):
        import_path(store, path)
    assert store.list_runs() == []


def test_bad_paths_and_formats_are_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InteropError, match="does not exist"):
        import_path(store, tmp_path / "missing.json")
    with pytest.raises(InteropError, match="neither an asv results folder"):
        import_path(store, tmp_path)
    with pytest.raises(InteropError, match="is not pytest-benchmark JSON"):
        import_path(store, FIXTURES / "google_benchmark.json", "pytest-benchmark")
    with pytest.raises(InteropError, match="is not Google Benchmark JSON"):
        import_path(store, FIXTURES / "pytest_benchmark.json", "google-benchmark")
    with pytest.raises(InteropError, match="Unknown import format 'csv'"):
        import_path(store, FIXTURES / "pytest_benchmark.json", "csv")
    lone = tmp_path / "m" / "abc-env.json"
    lone.parent.mkdir()
    shutil.copy(next((FIXTURES / "asv_results" / "testbox").glob("*-existing*.json")), lone)
    with pytest.raises(InteropError, match="benchmarks.json is missing"):
        import_path(store, lone, "asv")
    bad_unit = json.loads((FIXTURES / "google_benchmark.json").read_text())
    bad_unit["benchmarks"][0]["time_unit"] = "fortnights"
    (tmp_path / "unit.json").write_text(json.dumps(bad_unit))
    with pytest.raises(InteropError, match="time_unit 'fortnights'; expected one of ns, us, ms, s"):
        import_path(store, tmp_path / "unit.json")
    assert store.list_runs() == []


def test_a_half_imported_run_is_named(store: Store) -> None:
    read = read_pytest_benchmark(FIXTURES / "pytest_benchmark.json")
    store.begin_run(read.run)
    store.finish_run(read.run.id, RunStatus.INTERRUPTED, read.run.started_at)
    with pytest.raises(InteropError, match="left half-imported"):
        import_path(store, FIXTURES / "pytest_benchmark.json")


def test_exports_that_cannot_be_written_say_why(store: Store, tmp_path: Path) -> None:
    store.begin_run(RunInfo("no-commit", "2026-01-01T00:00:00+00:00", RunStatus.RUNNING))
    store.finish_run("no-commit", RunStatus.OK, "2026-01-01T00:00:00+00:00")
    with pytest.raises(InteropError, match="has no git commit; asv results are keyed by commit"):
        export_run(store, "no-commit", "asv", tmp_path / "r")
    with pytest.raises(InteropError, match="has no ok case with a 'time' measure"):
        export_run(store, "no-commit", "pytest-benchmark", tmp_path / "x.json")
    with pytest.raises(InteropError, match="Unknown export format 'csv'"):
        export_run(store, "no-commit", "csv", tmp_path / "x.csv")
    with pytest.raises(NotFoundError):
        export_run(store, "nothing-like-it", "asv", tmp_path / "r")


def test_a_calibrax_run_on_the_same_machine_gates_against_an_imported_baseline(store: Store) -> None:
    from dataclasses import replace

    from calibrax.analysis import comparable_hardware
    from calibrax.core import CaseResult, MeasureResult, measure_for

    import_path(store, FIXTURES / "pytest_benchmark.json", baseline="main")
    imported = store.load_run(store.get_baseline("main").run_id)
    hw = imported.run.hardware
    assert hw is not None and not hw.versions
    ours = replace(hw, platform="Linux-6.18-x86_64-with-glibc2.36", memory_bytes=24 * 2**30,
                   versions={"jax": "0.10.2", "jaxlib": "0.10.2"})
    assert ours.fingerprint != hw.fingerprint and comparable_hardware(ours, hw)
    assert not comparable_hardware(ours, replace(hw, cpu_model="Intel Xeon"))
    assert not comparable_hardware(ours, replace(hw, versions={"jax": "0.9.0"}))  # both measured: fingerprints rule
    run = RunInfo("calibrax-run-1", "2030-01-01T00:00:00+00:00", RunStatus.RUNNING, hardware=ours)
    store.begin_run(run)
    for case in imported.cases:
        samples = case.measures["time"].samples
        slow = case.params == {"n": 1000}
        times = tuple(2 * s for s in samples) if slow else tuple(samples)
        store.add_case(run.id, CaseResult(case.benchmark, dict(case.params), CaseStatus.OK,
                                          {"time": MeasureResult(measure_for("time"), times)}))
    store.finish_run(run.id, RunStatus.OK, "2030-01-01T00:01:00+00:00")
    kinds = {json.dumps(dict(v.params)): v.kind for v in check_run(store, run.id, "main").verdicts}
    assert kinds['{"n": 1000}'] is VerdictKind.REGRESSED
    assert VerdictKind.INCOMPARABLE not in kinds.values()
