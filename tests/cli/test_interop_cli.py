"""``calibrax import`` and ``calibrax export``: tables, JSON, the other commands on imported runs, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from calibrax.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "interop"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_prints_a_table_then_says_nothing_was_added(tmp_path: Path) -> None:
    db = str(tmp_path / "calibrax.db")
    first = invoke("import", str(FIXTURES / "asv_results"), "--db", db, "--baseline", "main")
    assert first.exit_code == 0, first.output
    assert "added" in first.output and "Imported 1 new run(s) of 1" in first.output
    assert "Baseline 'main' -> import-asv-" in first.output
    again = invoke("import", str(FIXTURES / "asv_results"), "--db", db)
    assert again.exit_code == 0 and "already stored" in again.output and "nothing was added" in again.output


def test_import_json_lists_the_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "calibrax.db")
    res = invoke("import", str(FIXTURES / "google_benchmark.json"), "--db", db, "--json")
    data = json.loads(res.output)
    assert data["format"] == "google-benchmark" and len(data["added"]) == 1
    assert data["runs"][0]["cases"] == 3 and data["runs"][0]["failed"] == 1 and data["runs"][0]["added"] is True


@pytest.mark.parametrize("name", ["pytest_benchmark.json", "pytest_benchmark_autosave.json", "asv_results",
                                  "google_benchmark.json", "google_benchmark_aggregates.json"])
def test_store_commands_work_on_imported_runs(tmp_path: Path, name: str) -> None:
    db = str(tmp_path / "calibrax.db")
    assert invoke("import", str(FIXTURES / name), "--db", db, "--baseline", "main").exit_code == 0
    shown = json.loads(invoke("show", "latest", "--db", db, "--json").output)
    assert shown["run"]["config"]["imported"]["source"].startswith(str((FIXTURES / name).absolute()))
    benchmark = next(c["benchmark"] for c in shown["cases"] if c["status"] == "ok")
    assert invoke("show", "latest", "--db", db).exit_code == 0
    assert invoke("history", benchmark, "--db", db).exit_code == 0
    out = tmp_path / "report.md"
    assert invoke("report", "latest", "--format", "markdown", "--out", str(out), "--db", db).exit_code == 0
    assert benchmark in out.read_text()
    checked = invoke("check", "latest", "--baseline", "main", "--db", db)
    assert checked.exit_code == 0 and "against baseline 'main'" in checked.output


def test_export_writes_pytest_benchmark_json_and_asv_results(tmp_path: Path) -> None:
    db = str(tmp_path / "calibrax.db")
    invoke("import", str(FIXTURES / "asv_results"), "--db", db)
    res = invoke("export", "latest", "--format", "pytest-benchmark", "--out", str(tmp_path / "pb.json"), "--db", db)
    assert res.exit_code == 0 and "as pytest-benchmark (2 benchmarks)" in res.output
    assert len(json.loads((tmp_path / "pb.json").read_text())["benchmarks"]) == 2
    res = invoke("export", "latest", "--format", "asv", "--out", str(tmp_path / "results"), "--db", db, "--json")
    files = json.loads(res.output)["files"]
    assert res.exit_code == 0 and all(Path(f).is_file() for f in files)


def test_compare_puts_an_imported_run_beside_its_exported_and_reimported_copy(tmp_path: Path) -> None:
    db = str(tmp_path / "calibrax.db")
    first = json.loads(invoke("import", str(FIXTURES / "pytest_benchmark.json"), "--db", db, "--json").output)
    invoke("export", "latest", "--format", "pytest-benchmark", "--out", str(tmp_path / "copy.json"), "--db", db)
    second = json.loads(invoke("import", str(tmp_path / "copy.json"), "--db", db, "--json").output)
    assert second["added"] and second["added"] != first["added"]
    res = invoke("compare", first["added"][0], second["added"][0], "--db", db, "--json")
    rows = json.loads(res.output)
    assert res.exit_code == 0 and len(rows) == 3
    assert all(entry["speedup"] == pytest.approx(1.0) for row in rows for entry in row["runs"])


@pytest.mark.parametrize(("args", "message"), [
    (["import", "{tmp}/missing.json"], "does not exist"),
    (["import", "{fixtures}/google_benchmark.json", "--format", "pytest-benchmark"], "is not pytest-benchmark JSON"),
    (["export", "latest", "--format", "asv", "--out", "{tmp}/r"], "No store at"),
])
def test_errors_are_one_line_with_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    filled = [a.format(tmp=tmp_path, fixtures=FIXTURES) for a in args]
    res = CliRunner().invoke(cli, [*filled, "--db", str(tmp_path / "calibrax.db")])
    assert res.exit_code == 2 and res.output.startswith("Error: ") and message in res.output


def test_unknown_formats_are_usage_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["import", str(FIXTURES / "asv_results"), "--format", "csv"])
    assert res.exit_code == 2 and "'csv' is not one of" in res.output
    res = CliRunner().invoke(cli, ["export", "latest", "--format", "google-benchmark", "--out", "x"])
    assert res.exit_code == 2 and "'google-benchmark' is not one of" in res.output
