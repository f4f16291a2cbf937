"""Tests of the publication figures (matplotlib): files, formats, content and the exporter."""

from __future__ import annotations

import json
import logging
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_records import make_record
from test_charts import SCRIPT, rich_record

from calibrax.core import ExporterError, RunRecord, RunStatus
from calibrax.exporters import export_all, get_exporter, write_figures
from calibrax.storage import Store

SVG = "{http://www.w3.org/2000/svg}"


def _texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # parses: the SVG is well-formed XML
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _baseline(record: RunRecord) -> RunRecord:
    slower = tuple(replace(c, measures={**c.measures, "time": replace(
        c.measures["time"], samples=tuple(v * 1.1 for v in c.measures["time"].samples), summary=None)})
        if "time" in c.measures else c for c in record.cases)
    return RunRecord(replace(record.run, id="base-run"), slower)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[Path, ...]]]:
    folder = tmp_path_factory.mktemp("figures")
    record = rich_record()
    result = write_figures([record], folder, {}, _baseline(record))
    assert result.skipped == {}
    return folder, result.written


def test_every_figure_is_written_as_pdf_and_svg(figures: tuple[Path, dict[str, tuple[Path, ...]]]) -> None:
    folder, written = figures
    assert set(written) == {"scaling_matmul_n_0", "scaling_script_alert_1_script_n_1", "comparison", "roofline"}
    for paths in written.values():
        assert [p.suffix for p in paths] == [".pdf", ".svg"]
        assert paths[0].read_bytes().startswith(b"%PDF")
        assert _texts(paths[1])


def test_scaling_figure_has_points_error_bars_and_the_law(figures: tuple[Path, dict[str, tuple[Path, ...]]]) -> None:
    svg = figures[1]["scaling_matmul_n_0"][1]
    texts = _texts(svg)
    assert "median, 95% CI" in texts and "n" in texts and "time (s)" in texts
    assert any(t.startswith("fit") and "2.0" in t for t in texts)
    root = ET.parse(svg).getroot()
    markers = [u for u in root.iter(f"{SVG}use")]
    assert len(markers) >= 4  # one marker per measured size (plus legend and error bar caps)


def test_comparison_and_roofline_figures_name_cases_and_axes(figures: tuple[Path, dict[str, tuple[Path, ...]]]) -> None:
    comparison = _texts(figures[1]["comparison"][1])
    assert "matmul (n=64, label=plain)" in comparison
    assert any(SCRIPT in t for t in comparison)  # hostile names are XML-escaped text, the file still parses
    assert any(t.startswith("time ratio, rich-run / base-run") for t in comparison)
    roofline = _texts(figures[1]["roofline"][1])
    assert "arithmetic intensity (FLOP/byte)" in roofline and "achieved FLOP/s" in roofline
    assert any(t.startswith("roof: 1 TFLOP/s") for t in roofline)


def test_figures_without_their_data_are_skipped_with_a_reason(tmp_path: Path) -> None:
    result = write_figures([make_record()], tmp_path, {"formats": ["svg"]})
    assert set(result.skipped) == {"scaling", "comparison", "roofline"}
    assert "no baseline run" in result.skipped["comparison"]
    assert list(tmp_path.iterdir()) == []


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ExporterError, match="formats"):
        write_figures([make_record()], tmp_path, {"formats": ["gif"]})
    with pytest.raises(ExporterError, match="font_family"):
        write_figures([make_record()], tmp_path, {"font_family": "comic"})


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ExporterError, match=r"pip install calibrax\[figures\]"):
        write_figures([rich_record()], tmp_path)


def test_exporter_writes_figures_beside_its_receipt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="calibrax"):
        export_all(rich_record(), ["figures"], tmp_path / "all", {"figures": {"formats": ["svg"]}})
    assert any("comparison figure of run" in r.getMessage() and "no baseline run" in r.getMessage()
               for r in caplog.records)
    outcome = export_all(rich_record(), ["figures"], tmp_path, {"figures": {"formats": ["svg"], "figures": ["roofline"]}})
    assert outcome.ok, outcome.failed
    receipt = json.loads(outcome.written["figures"].read_text())
    assert receipt["written"] == {"roofline": [str(tmp_path / "figures" / "roofline.svg")]}
    assert (tmp_path / "figures" / "roofline.svg").is_file()
    assert get_exporter("figures").filename == "figures.json"


def test_cli_report_writes_figures_and_the_full_html(tmp_path: Path) -> None:
    from calibrax.cli.main import cli

    db = tmp_path / "calibrax.db"
    record = rich_record()
    with Store.open(db) as store:
        store.begin_run(replace(record.run, status=RunStatus.RUNNING))
        for case in record.cases:
            store.add_case(record.run.id, case)
        store.finish_run(record.run.id, RunStatus.OK, "2025-03-01T12:03:10Z")
    runner = CliRunner()
    out = tmp_path / "paper"
    res = runner.invoke(cli, ["report", "latest", "--format", "figures", "--out", str(out), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.glob("roofline.*")) == ["roofline.pdf", "roofline.svg"]
    assert "Not drawn: the comparison figure, because no baseline run was given" in res.output  # says why
    page = tmp_path / "index.html"
    res = runner.invoke(cli, ["report", "latest", "--out", str(page), "--db", str(db)])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    assert 'id="roofline"' in text and "No alert was raised" in text and "No validation check is stored" in text
    res = runner.invoke(cli, ["report", "--sweep", "latest", "--db", str(db)])
    assert res.exit_code == 2 and "No sweep 'latest'" in res.output
    res = runner.invoke(cli, ["report", "--sweep", "s", "--format", "latex", "--db", str(db)])
    assert res.exit_code == 2 and "--sweep renders with an exporter that declares renders_sweeps (" in res.output
    assert "figures" in res.output and "html" in res.output and "got --format 'latex'" in res.output


def test_writing_pdfs_adds_no_info_lines_to_the_run_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("fontTools").setLevel(logging.NOTSET)  # as in a fresh calibrax-run process
    with caplog.at_level(logging.INFO):
        written = write_figures([rich_record()], tmp_path, {"formats": ["pdf"]}).written
    assert written and all(p.suffix == ".pdf" for paths in written.values() for p in paths)
    assert [r.name for r in caplog.records if r.name.startswith("fontTools")] == []
