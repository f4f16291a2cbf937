"""`calibrax report` with every exporter, with the run's stored settings and its baseline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import add_run
from report_records import chart_data

from calibrax.cli import cli
from calibrax.storage import Store

CONFIG = {
    "thresholds": {"gate": ["time"], "margins": {"time": 0.25}},
    "exporter": {"latex": {"mode": "fragment"}},
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        add_run(store, "run-base", 1e-3, "01", CONFIG)
        add_run(store, "run-slow", 2e-3, "02", CONFIG)
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("fmt", "name"), [("junit", "junit.xml"), ("latex", "report.tex"), ("html", "index.html")]
)
def test_report_renders_with_each_new_exporter(db: Path, tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / name
    res = invoke("report", "run-slow", "--db", str(db), "--format", fmt, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(out)
    assert "matmul" in out.read_text(encoding="utf-8")


def test_report_uses_the_runs_stored_exporter_settings(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "table.tex"
    assert invoke("report", "run-slow", "--db", str(db), "--format", "latex", "--out", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "\\begin{table}" in text and "\\documentclass" not in text  # mode: fragment


def test_checked_run_report_shows_verdicts_and_baseline_samples(db: Path, tmp_path: Path) -> None:
    assert invoke("baseline", "set", "main", "run-base", "--db", str(db)).exit_code == 0
    assert invoke("check", "run-slow", "--baseline", "main", "--db", str(db)).exit_code == 1
    html = tmp_path / "index.html"
    res = invoke("report", "run-slow", "--db", str(db), "--baseline", "main", "--out", str(html))
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    cases = chart_data(page)["cases"]  # the page's script draws each chart from this data
    assert sum(1 for case in cases.values() if "b" in case) == 2  # the baseline's samples beside two cases
    assert "Baseline run <code>run-base</code>" in page
    junit = tmp_path / "junit.xml"
    invoke("report", "run-slow", "--db", str(db), "--format", "junit", "--baseline", "main", "--out", str(junit))
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["baseline_run_id"] == "run-base"


def test_unknown_baseline_name_is_a_usage_error(db: Path, tmp_path: Path) -> None:
    assert invoke("baseline", "set", "main", "run-base", "--db", str(db)).exit_code == 0
    invoke("check", "run-slow", "--baseline", "main", "--db", str(db))
    res = CliRunner().invoke(cli, ["report", "run-slow", "--db", str(db), "--baseline", "nope", "--out", str(tmp_path / "x.html")])
    assert res.exit_code == 2
    assert "nope" in res.output
