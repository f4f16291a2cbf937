"""Every file exporter on a real run, and a failing exporter that leaves the run and exit code alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO, run_cli

pytestmark = pytest.mark.slow


def test_real_run_with_every_file_exporter_and_a_dead_tracking_server(tmp_path: Path) -> None:
    project = tmp_path / "userproj"
    shutil.copytree(REPO / "tests" / "fixtures" / "userproj", project)
    res = run_cli(
        "calibrax-run", "profile=quick", "suite=mine",
        "exporters=[html,latex,junit,json,mlflow]",
        "exporter.mlflow.tracking_uri=http://127.0.0.1:9", "exporter.mlflow.max_retries=0",
        "exporter.mlflow.timeout=2", "exporter.latex.mode=standalone",
        cwd=project, env={"MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    output = res.stdout + res.stderr
    assert "Exporter mlflow failed" in output and "127.0.0.1" in output

    runs = json.loads(run_cli("calibrax", "runs", "--json", cwd=project).stdout)
    assert [r["status"] for r in runs] == ["ok"]
    folder = project / "reports" / runs[0]["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "junit.xml", "report.tex", "run.json"]

    root = ET.parse(folder / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    assert root.find(".//testcase").get("classname") == "calibrax.steady"  # type: ignore[union-attr]

    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is missing: run scripts/system-deps.sh (make test does)."
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "steady" in (folder / "report.tex").read_text()
