"""Stage 5 of a run, export: reports of the stored run, and the spool file of a sweep job.

The run is read back from the store once, with its verdicts and baseline; the report input is
built once from what the configured exporters declare they need (``calibrax.exporters``,
``export_report``), and every exporter renders that record. An exporter that fails is a
warning, never the exit code.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path

from calibrax.ci import CheckResult
from calibrax.core.result import RunRecord
from calibrax.exporters import ExportOutcome, export_report
from calibrax.runner.context import RunContext
from calibrax.runner.sweep import RESULT_FILE
from calibrax.storage import Store
from calibrax.validation import entry_to_dict

__all__ = ["export_run", "spool_run"]

log = logging.getLogger("calibrax")


def _judged(store: Store, run_id: str, check: CheckResult | None) -> RunRecord:
    record = store.load_run(run_id)
    if check is None:
        return record
    return replace(record, verdicts=check.verdicts,
                   baseline={"name": check.baseline_name, "run_id": check.baseline_run_id})


def export_run(ctx: RunContext, check: CheckResult | None) -> tuple[ExportOutcome | None, Path | None]:
    """Render the run with every exporter of ``cfg.exporters`` into ``report.dir/<run-id>/``."""
    names = list(ctx.cfg.exporters)
    if not names:
        return None, None
    record = _judged(ctx.store, ctx.run_id, check)
    out_dir = ctx.cwd / ctx.cfg.report.dir / ctx.run_id
    outcome = export_report(ctx.store, record, names, out_dir, ctx.cfg.exporter.by_name())
    for name, reason in outcome.failed.items():
        log.warning("Exporter %s failed: %s", name, reason)
    return outcome, out_dir


def spool_run(store: Store, run_id: str, check: CheckResult | None, spool_dir: Path) -> None:
    """Write the finished run (its verdicts and validation checks) as JSON into the job folder,
    for ingestion."""
    payload = _judged(store, run_id, check).to_dict()
    entries, gate = store.load_validation(run_id)
    if entries:  # loaded back with the run by calibrax ingest
        payload["validation"] = {"gate": gate, "entries": [entry_to_dict(e) for e in entries]}
    tmp = spool_dir / f"{RESULT_FILE}.tmp"
    tmp.write_text(json.dumps(payload, default=str), encoding="utf-8")
    os.replace(tmp, spool_dir / RESULT_FILE)
