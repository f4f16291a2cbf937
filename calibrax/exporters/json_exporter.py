"""The ``json`` exporter: the run in the documented ``calibrax show --json`` shape.

The module is not called ``json.py`` so that it can never be mistaken for the standard library.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from calibrax.exporters._protocol import BaseExporter
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import JsonSettings

__all__ = ["JsonExporter"]


class JsonExporter(BaseExporter[JsonSettings]):
    """Writes ``run.json``: exactly ``record.to_dict()``, indented by 2.

    Non-finite floats (a NaN sample, an infinite ratio) are written as ``null`` so the file is
    strict JSON that any parser reads; every other value is unchanged.

    Example:
        >>> from calibrax.core import RunInfo, RunRecord, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> json.loads(JsonExporter().render(record))["run"]["id"]
        'r1'
    """

    name = "json"
    filename = "run.json"
    settings_type = JsonSettings
    definition_key = "calibrax.exporters.json_exporter.JsonExporter"

    def render_report(self, report: ReportInput, settings: JsonSettings, folder: Path | None = None) -> str:
        """Return the record as pretty-printed JSON."""
        return json.dumps(_finite(report.record.to_dict()), indent=2, ensure_ascii=False, default=str) + "\n"


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (strict JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


EXPORTERS.register(JsonExporter.name, JsonExporter())
