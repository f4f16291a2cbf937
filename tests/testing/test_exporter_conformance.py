"""Every registered exporter passes calibrax.testing.ExporterConformance: one class per row,
made from the registry, so a new exporter is tested here without a line added."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from calibrax.exporters import EXPORTERS, BaseExporter, NoSettings, ReportInput
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


def test_importing_calibrax_imports_neither_pytest_nor_the_suites() -> None:
    code = "import calibrax, calibrax.exporters, sys; print(sorted(m for m in ('pytest', 'calibrax.testing') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_every_registered_exporter_has_a_suite_class() -> None:
    made: dict[str, Any] = {n: globals()[f"TestExporter_{n}"] for n in EXPORTERS.names()}
    assert {cls.exporter for cls in made.values()} == set(EXPORTERS.names())
