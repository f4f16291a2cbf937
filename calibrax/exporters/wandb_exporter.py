"""The ``wandb`` exporter: one Weights & Biases run per calibrax run (the ``wandb`` extra).

The module is not called ``wandb.py`` so it never shadows the package it drives; ``wandb`` is
imported only when the exporter renders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from calibrax.core import ExporterError, run_info_to_dict
from calibrax.exporters import _tracking
from calibrax.exporters._protocol import BaseExporter
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import WandbSettings

__all__ = ["WandbExporter"]

_MODES = ("online", "offline", "disabled")


class WandbExporter(BaseExporter[WandbSettings]):
    """Logs the run to W&B and writes ``wandb.json`` (the W&B run's id, mode and folder).

    The W&B run is named after the calibrax run, grouped by its sweep id (so the members of a
    ``-m`` sweep sit together), and gets: the resolved config (plus git and hardware under
    ``calibrax``), a Table ``cases`` with one row per case, and a summary metric per case and
    measure keyed ``benchmark/params/measure`` (the median).

    Its settings are :class:`~calibrax.exporters.WandbSettings`; without a ``mode``, W&B runs
    as ``WANDB_MODE`` says, else ``online`` when ``WANDB_API_KEY`` is set, else ``offline``
    (never a login prompt).

    Example:
        >>> WandbExporter().filename
        'wandb.json'
    """

    name = "wandb"
    filename = "wandb.json"
    settings_type = WandbSettings
    definition_key = "calibrax.exporters.wandb_exporter.WandbExporter"

    def render_report(self, report: ReportInput, settings: WandbSettings, folder: Path | None = None) -> str:
        """Send the run to W&B and return the receipt.

        Raises:
            ExporterError: wandb is not installed, or a setting is invalid.
        """
        wandb = _tracking.import_extra("wandb", "wandb")
        mode = _mode(settings.mode)
        record = report.record
        run = record.run
        tags = [run.status.value, *(str(t) for t in settings.tags)]
        if run.hardware is not None:
            tags.append(run.hardware.backend)
        info = run_info_to_dict(run)
        config = {**dict(run.config), "calibrax": {k: info[k] for k in ("id", "git", "hardware", "overrides")}}
        columns, rows = _tracking.case_rows(record)
        with wandb.init(
            project=settings.project,
            entity=settings.entity or None,
            name=run.id,
            group=run.sweep_id or None,
            job_type="benchmark",
            tags=list(dict.fromkeys(tags)),
            config=config,
            dir=settings.dir or None,
            mode=mode,
            settings=wandb.Settings(console="off", silent=True),
        ) as tracked:
            tracked.log({"cases": wandb.Table(columns=columns, data=rows)})
            tracked.summary.update(_tracking.summary_metrics(record))
            tracked.summary.update({f"cases/{status}": n for status, n in record.counts.items()})
            receipt = _tracking.receipt(
                tracker="wandb",
                run_id=tracked.id,
                project=tracked.project,
                mode=mode,
                url=tracked.url if mode == "online" else None,
                dir=os.path.dirname(tracked.dir),
            )
        return receipt


def _mode(value: Any) -> str:
    if value is None:
        env = os.environ.get("WANDB_MODE")
        if env:
            value = {"dryrun": "offline", "run": "online"}.get(env, env)
        else:
            return "online" if os.environ.get("WANDB_API_KEY") else "offline"
    if value not in _MODES:
        raise ExporterError(
            f"The wandb exporter's mode must be one of {', '.join(_MODES)}, got {value!r}."
        )
    return str(value)


EXPORTERS.register(WandbExporter.name, WandbExporter())
