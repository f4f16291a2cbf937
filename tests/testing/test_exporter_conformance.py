"""Every registered exporter passes calibrax.testing.ExporterConformance: one class per row,
made from the registry, so a new exporter is tested here without a line added."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from calibrax.core import RunRecord
from calibrax.exporters import EXPORTERS, BaseExporter, NoSettings, OutputKind, ReportInput
from calibrax.testing import ExporterConformance

# Exporters whose file holds ids a remote service makes (a tracker's run id): not compared.
MADE_ELSEWHERE = {"wandb", "mlflow"}

for _name in EXPORTERS.names():
    _cls = f"TestExporter_{_name}"
    globals()[_cls] = type(_cls, (ExporterConformance,), {"exporter": _name, "deterministic": _name not in MADE_ELSEWHERE})


class _Plain(BaseExporter[NoSettings]):
    """A plugin's exporter, as small as one can be."""

    name = "conformance_plain"
    filename = "plain.txt"

    def render_report(self, report: ReportInput, settings: NoSettings, folder: Path | None = None) -> str:
        return f"{report.run_id}: {len(report.record.cases)} cases\n"


class TestAPluginAdoptsTheSuiteInThreeLines(ExporterConformance):
    exporter = _Plain()


class _Listing(BaseExporter[NoSettings]):
    """A plugin's folder exporter that also renders sweeps: one text file per run, and a receipt."""

    name = "conformance_listing"
    filename = "listing.json"
    output: OutputKind = "folder"
    renders_sweeps = True

    def _write(self, key: str, records: Sequence[RunRecord], folder: Path | None) -> str:
        target = Path(folder if folder is not None else Path.cwd()) / "listing"
        target.mkdir(parents=True, exist_ok=True)
        for i, record in enumerate(records):
            (target / f"run-{i}.txt").write_text(f"{record.run.id}: {len(record.cases)} cases\n", encoding="utf-8")
        return json.dumps({"of": key, "folder": str(target), "runs": [r.run.id for r in records]}) + "\n"

    def render_report(self, report: ReportInput, settings: NoSettings, folder: Path | None = None) -> str:
        return self._write(report.run_id, [report.record], folder)

    def render_sweep(self, sweep_id: str, records: Sequence[RunRecord], settings: Any = None,
                     axes: Sequence[str] | None = None, folder: Path | None = None) -> str:
        return self._write(sweep_id, records, folder)


class TestAFolderPluginThatRendersSweeps(ExporterConformance):
    exporter = _Listing()


def test_calibrax_report_renders_a_sweep_with_a_plugin_folder_exporter(tmp_path: Path) -> None:
    """What the CLI does with an exporter follows its declarations (output kind, renders_sweeps),
    never its name."""
    from click.testing import CliRunner
    from factories import add_run

    from calibrax.cli.main import cli
    from calibrax.storage import Store

    db = tmp_path / "calibrax.db"
    with Store.open(db) as store:
        for i, run_id in enumerate(("job-0", "job-1")):
            add_run(store, run_id, 1e-3 * (i + 1), f"0{i}", sweep_id="nightly")
    EXPORTERS.register(_Listing.name, _Listing())
    try:
        out = tmp_path / "listed"
        res = CliRunner().invoke(cli, ["report", "--sweep", "nightly", "--format", _Listing.name, "--out", str(out),
                                       "--db", str(db)])
        assert res.exit_code == 0, res.output
        assert res.output.strip() == str(out / "listing")
        assert sorted(p.read_text() for p in (out / "listing").iterdir()) == ["job-0: 2 cases\n", "job-1: 2 cases\n"]
        assert json.loads((out / "listing.json").read_text())["of"] == "nightly"
        res = CliRunner().invoke(cli, ["report", "job-1", "--format", _Listing.name, "--out", str(tmp_path / "one"),
                                       "--db", str(db)])
        assert res.exit_code == 0 and res.output.strip() == str(tmp_path / "one" / "listing"), res.output
        res = CliRunner().invoke(cli, ["report", "--sweep", "nightly", "--format", "json", "--db", str(db)])
        assert res.exit_code == 2 and "declares renders_sweeps (" in res.output and _Listing.name in res.output
    finally:
        EXPORTERS.unregister(_Listing.name)


def test_importing_calibrax_imports_neither_pytest_nor_the_suites() -> None:
    code = "import calibrax, calibrax.exporters, sys; print(sorted(m for m in ('pytest', 'calibrax.testing') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_every_registered_exporter_has_a_suite_class() -> None:
    made: dict[str, Any] = {n: globals()[f"TestExporter_{n}"] for n in EXPORTERS.names()}
    assert {cls.exporter for cls in made.values()} == set(EXPORTERS.names())
