"""CLI commands over a store built through the library: run, check the output, check the effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import add_run, run_info, time_case

from calibrax.cli import cli
from calibrax.core import Direction, RunStatus, ValidationEntry
from calibrax.storage import Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        add_run(store, "run-a", 1e-3, "01")
        add_run(store, "run-b", 1e-3, "02")
        add_run(store, "run-slow", 2e-3, "03")
    return path


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_runs_lists_newest_first(db: Path) -> None:
    res = invoke("runs", "--db", str(db), "--json")
    assert res.exit_code == 0  # type: ignore[attr-defined]
    assert [r["id"] for r in json.loads(res.output)] == ["run-slow", "run-b", "run-a"]  # type: ignore[attr-defined]
    text = invoke("runs", "--db", str(db), "--limit", "1")
    assert "run-slow" in text.output and "run-a" not in text.output  # type: ignore[attr-defined]


def test_show_json_has_the_documented_shape(db: Path) -> None:
    res = invoke("show", "latest", "--db", str(db), "--json")
    data = json.loads(res.output)  # type: ignore[attr-defined]
    assert data["run"]["id"] == "run-slow" and data["run"]["status"] == "ok"
    t = data["cases"][0]["measures"]["time"]
    assert t["n"] == 20 and len(t["samples"]) == 20 and t["unit"] == "s" and t["direction"] == "lower"
    assert "samples" not in json.loads(invoke("show", "run-a", "--db", str(db), "--json", "--no-samples").output)["cases"][0]["measures"]["time"]  # type: ignore[attr-defined]


def test_show_human_table_and_prefix(db: Path) -> None:
    res = invoke("show", "run-s", "--db", str(db))
    assert "Run run-slow" in res.output and "matmul" in res.output and "n=128" in res.output  # type: ignore[attr-defined]
    assert "Validation" not in res.output and "Trace" not in res.output  # type: ignore[attr-defined]


def test_show_measure_and_all_show_every_stored_measure(tmp_path: Path) -> None:
    from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, MeasureResult, measure_for

    path = tmp_path / "m.db"
    accuracy = measure_for("accuracy", "1", Direction.HIGHER)
    with Store.open(path) as store:
        store.begin_run(run_info("run-q"))
        timed = time_case("classifier", {"steps": 10}, 2e-3)
        store.add_case("run-q", CaseResult(
            "classifier", {"steps": 10}, CaseStatus.OK,
            {**timed.measures, "accuracy": MeasureResult(accuracy, (0.9375,)),
             "throughput": MeasureResult(STANDARD_MEASURES["throughput"], (5.0e5, 5.1e5, 4.9e5))},
            unavailable={"energy": "no RAPL or NVML counter on this machine"}))
        store.finish_run("run-q", RunStatus.OK, "2026-11-26T00:01:00+00:00")
    default = invoke("show", "run-q", "--db", str(path)).output  # type: ignore[attr-defined]
    assert "accuracy" not in default
    one = invoke("show", "run-q", "--db", str(path), "--measure", "accuracy").output  # type: ignore[attr-defined]
    [row] = [line for line in one.splitlines() if line.startswith("classifier")]
    assert row.split()[3:] == ["accuracy", "0.9375", "-", "1", "higher"]  # one sample: no interval
    every = invoke("show", "run-q", "--db", str(path), "--all").output  # type: ignore[attr-defined]
    names = [line.split()[3] for line in every.splitlines() if line.startswith("classifier")]
    assert names == ["time", "compile_time", "accuracy", "throughput", "energy"]
    assert "no RAPL or NVML counter" in every and "nan" not in every
    bad = CliRunner().invoke(cli, ["show", "run-q", "--db", str(path), "--measure", "acuracy"])
    assert bad.exit_code == 2 and "'acuracy'" in bad.output and "accuracy" in bad.output and "--all" in bad.output


def test_show_lists_validation_violations_and_traces(db: Path) -> None:
    with Store.open(db) as store:
        store.add_validation("run-a", [ValidationEntry("convergence", "matmul loss", True, "converged at step 9"),
                                       ValidationEntry("accuracy", "matmul max_rel", False, "error 0.2 > 1e-05")],
                             gate=True)
        store.add_artifact("run-a", 1, "trace", "/data/traces/run-a/softmax/trace.json.gz", kind="perfetto_trace")
    out = invoke("show", "run-a", "--db", str(db)).output  # type: ignore[attr-defined]
    assert "Validation: 1 of 2 checks passed (gating)" in out
    assert "VIOLATION accuracy matmul max_rel: error 0.2 > 1e-05" in out and "converged at step 9" not in out
    assert "Trace of softmax cols=8: /data/traces/run-a/softmax/trace.json.gz" in out


def test_baseline_set_list_rm_and_check(db: Path, tmp_path: Path) -> None:
    assert invoke("baseline", "set", "main", "run-a", "--db", str(db)).exit_code == 0  # type: ignore[attr-defined]
    listed = json.loads(invoke("baseline", "list", "--db", str(db), "--json").output)  # type: ignore[attr-defined]
    assert [(b["name"], b["run_id"]) for b in listed] == [("main", "run-a")]

    same = invoke("check", "run-b", "--baseline", "main", "--db", str(db))
    assert same.exit_code == 0 and "2 pass" in same.output  # type: ignore[attr-defined]

    summary = tmp_path / "summary.md"
    slow = invoke("check", "run-slow", "--baseline", "main", "--db", str(db), "--summary", str(summary))
    assert slow.exit_code == 1  # type: ignore[attr-defined]
    assert "REGRESSED matmul" in slow.output  # type: ignore[attr-defined]
    first_line = summary.read_text().splitlines()[0]
    assert first_line.startswith("## ❌") and "regressed" in first_line  # agrees with exit code 1
    assert "matmul" in summary.read_text()
    same_summary = tmp_path / "same.md"
    invoke("check", "run-b", "--baseline", "main", "--db", str(db), "--summary", str(same_summary))
    assert same_summary.read_text().startswith("## ✅")
    with Store.open(db) as store:
        assert any(v.failed for v in store.load_verdicts("run-slow"))

    loose = invoke("check", "run-slow", "--baseline", "main", "--db", str(db), "--margin", "time=1.5", "--json")
    assert loose.exit_code == 0 and json.loads(loose.output)["counts"]["regressed"] == 0  # type: ignore[attr-defined]

    assert invoke("baseline", "rm", "main", "--db", str(db)).exit_code == 0  # type: ignore[attr-defined]
    with Store.open(db) as store:
        assert store.list_baselines() == []


@pytest.mark.parametrize("fmt, name", [("html", "index.html"), ("markdown", "summary.md"), ("json", "run.json")])
def test_report_formats(db: Path, tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / "out" / name
    res = invoke("report", "run-a", "--db", str(db), "--format", fmt, "--out", str(out))
    assert res.exit_code == 0 and out.is_file()  # type: ignore[attr-defined]
    assert "matmul" in out.read_text()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["show", "nope"], 2, "nope"),
        (["check", "--baseline", "main"], 2, "Unknown baseline 'main'"),
        (["baseline", "rm", "ghost"], 2, "ghost"),
        (["report", "--format", "htm"], 2, "Did you mean 'html'"),
        (["check", "--baseline", "x", "--margin", "time"], 2, "--margin takes MEASURE=FRACTION"),
    ],
)
def test_errors_are_one_line_with_exit_codes(db: Path, args: list[str], code: int, message: str) -> None:
    if "--margin" in args:
        invoke("baseline", "set", "x", "run-a", "--db", str(db))
    res = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert res.exit_code == code, res.output
    assert message in res.output and res.output.startswith("Error: ")


def test_missing_store_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    res = CliRunner().invoke(cli, ["runs", "--db", str(missing)])
    assert res.exit_code == 2 and "No store at" in res.output and not missing.exists()


def test_db_from_environment(db: Path) -> None:
    res = CliRunner().invoke(cli, ["runs", "--json"], env={"CALIBRAX_DB": str(db)})
    assert res.exit_code == 0 and len(json.loads(res.output)) == 3


def test_benchmarks_list_includes_shipped_benchmarks() -> None:
    rows = json.loads(invoke("benchmarks", "list", "--json").output)  # type: ignore[attr-defined]
    names = {r["name"] for r in rows}
    assert {"matmul", "softmax", "mlp_forward", "mlp_train_step"} <= names


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for name, cmd in getattr(group, "commands", {}).items():
        out.append((prefix + name, cmd))
        out += _commands(cmd, prefix + name + " ")
    return out


@pytest.mark.parametrize("name, cmd", _commands(cli))
def test_every_command_is_documented_with_an_example(name: str, cmd: object) -> None:
    doc = (getattr(cmd, "help", None) or "").strip()
    assert doc and "Example: calibrax " in doc.splitlines()[-1], f"{name} needs a docstring ending in an example"


def test_compare_shows_speedups_with_cis(db: Path) -> None:
    res = invoke("compare", "run-a", "run-slow", "--db", str(db), "--json")
    rows = json.loads(res.output)  # type: ignore[attr-defined]
    matmul = next(r for r in rows if r["benchmark"] == "matmul" and r["measure"] == "time")
    slow = next(e for e in matmul["runs"] if e["run_id"] == "run-slow")
    assert slow["speedup"] == pytest.approx(0.5, rel=0.02) and slow["ci_low"] < 0.5 < slow["ci_high"]
    assert matmul["winner"] == "run-a"
    text = invoke("compare", "run-a", "run-slow", "--db", str(db), "--measure", "time")
    assert "matmul" in text.output and "ref" in text.output  # type: ignore[attr-defined]
    one = CliRunner().invoke(cli, ["compare", "run-a", "--db", str(db)])
    assert one.exit_code == 2 and "at least two runs" in one.output


def test_markdown_report_of_a_checked_run_renders(db: Path, tmp_path: Path) -> None:
    invoke("baseline", "set", "main", "run-a", "--db", str(db))
    assert invoke("check", "run-slow", "--baseline", "main", "--db", str(db)).exit_code == 1  # type: ignore[attr-defined]
    out = tmp_path / "again.md"
    res = CliRunner().invoke(cli, ["report", "run-slow", "--format", "markdown", "--db", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("## ❌") and "### Verdicts" in text and "regressed" in text


def test_compare_of_three_runs_with_a_missing_case_shows_it_missing(db: Path) -> None:
    with Store.open(db) as store:
        store.begin_run(run_info("run-partial", started_at="2026-11-26T00:00:09+00:00"))
        store.add_case("run-partial", time_case("matmul", {"n": 128}, 1.5e-3, seed=5))
        store.finish_run("run-partial", RunStatus.OK, "2026-11-26T00:01:09+00:00")
    res = CliRunner().invoke(cli, ["compare", "run-a", "run-slow", "run-partial", "--db", str(db)])
    assert res.exit_code == 0, res.output
    softmax = next(line for line in res.output.splitlines() if line.startswith("softmax"))
    assert softmax.split()[-2:] == ["missing", "-"]
    assert "nan" not in res.output  # one-sample measures show a ratio without an interval
    matmul = next(line for line in res.output.splitlines() if line.startswith("matmul"))
    assert "missing" not in matmul and "ref" in matmul
    rows = json.loads(invoke("compare", "run-a", "run-slow", "run-partial", "--db", str(db), "--json").output)  # type: ignore[attr-defined]
    soft = next(r for r in rows if r["benchmark"] == "softmax" and r["measure"] == "time")
    assert soft["missing"] == ["run-partial"] and {e["run_id"] for e in soft["runs"]} == {"run-a", "run-slow"}


def test_history_marks_a_step_change(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with Store.open(path) as store:
        for i in range(30):
            run_id = f"r{i:02d}"
            store.begin_run(run_info(run_id, started_at=f"2026-11-26T00:{i:02d}:00+00:00"))
            store.add_case(run_id, time_case("matmul", {"n": 64}, 1e-3 * (1.10 if i >= 18 else 1.0), seed=i))
            store.finish_run(run_id, RunStatus.OK, f"2026-11-26T00:{i:02d}:30+00:00")
    out = json.loads(invoke("history", "matmul", "--param", "n=64", "--db", str(path), "--json").output)  # type: ignore[attr-defined]
    [case] = out
    assert len(case["runs"]) == 30
    [cp] = case["changepoints"]
    assert abs(cp["index"] - 18) <= 1 and cp["relative_change"] == pytest.approx(0.10, abs=0.02)
    text = invoke("history", "matmul", "--db", str(path)).output  # type: ignore[attr-defined]
    assert "<- changepoint +" in text
    missing = CliRunner().invoke(cli, ["history", "nope", "--db", str(path)])
    assert missing.exit_code == 2 and "No stored ok results of 'nope'" in missing.output
