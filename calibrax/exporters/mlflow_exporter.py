"""The ``mlflow`` exporter: one MLflow run per calibrax run (the ``mlflow`` extra).

MLflow is driven through ``MlflowClient`` with an explicit tracking URI, so nothing global (the
active run, the default experiment) is touched in the calling process. ``mlflow`` is imported
only when the exporter renders.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from calibrax.core import RunRecord, RunStatus
from calibrax.exporters import _tracking
from calibrax.exporters._protocol import BaseExporter
from calibrax.exporters._registry import EXPORTERS, get_exporter
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._settings import MlflowSettings

__all__ = ["MlflowExporter", "mlflow_key"]

_MAX_PARAM = 6000  # MLflow refuses longer param values
_BATCH = {"metrics": 1000, "params": 100, "tags": 100}  # MLflow's limits per log_batch call


class MlflowExporter(BaseExporter[MlflowSettings]):
    """Logs the run to MLflow and writes ``mlflow.json`` (the tracking URI and run ids).

    The MLflow run gets: the config flattened into params (``profile.min_rounds``), the median
    of each case and measure as a metric keyed ``benchmark/params/measure``, case counts as
    ``cases/<status>`` metrics, git and hardware tags, and the HTML report and ``run.json`` as
    artifacts. A run of a ``-m`` sweep is nested under one parent run per sweep.

    Its settings are :class:`~calibrax.exporters.MlflowSettings`. The artifacts (by default the
    HTML report and ``run.json``) are rendered from the same report input, so the HTML one
    draws the baseline's samples when the input holds the baseline.

    Example:
        >>> MlflowExporter().filename
        'mlflow.json'
    """

    name = "mlflow"
    filename = "mlflow.json"
    needs = frozenset({"baseline"})
    settings_type = MlflowSettings
    definition_key = "calibrax.exporters.mlflow_exporter.MlflowExporter"

    def render_report(self, report: ReportInput, settings: MlflowSettings, folder: Path | None = None) -> str:
        """Send the run to MLflow and return the receipt.

        Raises:
            ExporterError: mlflow is not installed (``pip install calibrax[mlflow]``).
        """
        tracking = _tracking.import_extra("mlflow.tracking", "mlflow")
        entities = _tracking.import_extra("mlflow.entities", "mlflow")
        record = report.record
        uri = str(settings.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db")
        with _http_limits(settings):
            client = tracking.MlflowClient(tracking_uri=uri)
            experiment_id = _experiment(client, settings.experiment, settings.artifact_location, uri)
            parent = _sweep_parent(client, experiment_id, record.run.sweep_id)
            tags = _tags(record, parent)
            run_id = client.create_run(experiment_id, run_name=record.run.id, tags=tags).info.run_id
            try:
                _log(client, entities, run_id, record)
                _artifacts(client, run_id, report, settings.artifacts)
            except BaseException:
                client.set_terminated(run_id, status="FAILED")
                raise
            client.set_terminated(run_id, status="FINISHED" if record.run.status is RunStatus.OK else "FAILED")
        return _tracking.receipt(
            tracker="mlflow", tracking_uri=uri, experiment_id=experiment_id, run_id=run_id, parent_run_id=parent
        )


def mlflow_key(text: str) -> str:
    """``text`` as an MLflow key: ``=`` becomes ``:``, other characters MLflow refuses ``_``.

    Example:
        >>> mlflow_key("matmul/n=256,dtype=float32/time")
        'matmul/n:256_dtype:float32/time'
    """
    return re.sub(r"[^\w\-. :/]", "_", text.replace("=", ":"))


@contextlib.contextmanager
def _http_limits(settings: MlflowSettings) -> Iterator[None]:
    """Bound MLflow's HTTP retries and timeout while this exporter runs, then restore them."""
    wanted = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(int(settings.max_retries)),
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(settings.timeout)),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _experiment(client: Any, name: str, artifact_location: Any, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = str(artifact_location) if artifact_location else None
    if location is None and uri.startswith("sqlite:///"):
        database = Path(uri[len("sqlite:///"):]).expanduser().resolve()
        location = (database.parent / "mlartifacts").as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def _sweep_parent(client: Any, experiment_id: str, sweep_id: str | None) -> str | None:
    """The id of the parent run that groups a sweep's runs, created by the sweep's first run."""
    if not sweep_id:
        return None
    quoted = sweep_id.replace("\\", "\\\\").replace("'", "\\'")
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`calibrax.sweep_id` = '{quoted}' and tags.`calibrax.role` = 'sweep'",
        max_results=1,
    )
    if found:
        return str(found[0].info.run_id)
    tags = {"calibrax.sweep_id": sweep_id, "calibrax.role": "sweep"}
    parent = client.create_run(experiment_id, run_name=f"sweep {sweep_id}", tags=tags).info.run_id
    client.set_terminated(parent, status="FINISHED")
    return str(parent)


def _tags(record: RunRecord, parent: str | None) -> dict[str, str]:
    run = record.run
    tags: dict[str, Any] = {
        "calibrax.run_id": run.id,
        "calibrax.role": "run",
        "calibrax.status": run.status.value,
        "calibrax.sweep_id": run.sweep_id,
        "calibrax.started_at": run.started_at,
        "mlflow.source.git.commit": run.git.commit,
        "mlflow.source.git.branch": run.git.branch,
        "calibrax.git.dirty": None if run.git.dirty is None else str(run.git.dirty).lower(),
        "mlflow.parentRunId": parent,
    }
    if run.hardware is not None:
        hw = run.hardware
        tags.update({
            "calibrax.hardware.backend": hw.backend,
            "calibrax.hardware.device": f"{hw.device_count} x {hw.device_kind}",
            "calibrax.hardware.cpu": f"{hw.cpu_model} ({hw.cpu_count} cores)",
            "calibrax.hardware.platform": hw.platform,
            "calibrax.hardware.fingerprint": hw.fingerprint,
            **{f"calibrax.version.{lib}": version for lib, version in hw.versions.items()},
        })
    for key, value in record.baseline.items():
        tags[f"calibrax.baseline.{key}"] = value
    return {key: str(value) for key, value in tags.items() if value is not None}


def _log(client: Any, entities: Any, run_id: str, record: RunRecord) -> None:
    now = int(time.time() * 1000)
    metrics = [entities.Metric(mlflow_key(k), v, now, 0) for k, v in _tracking.summary_metrics(record).items()]
    metrics += [entities.Metric(f"cases/{status}", n, now, 0) for status, n in record.counts.items()]
    params = _params(record.run.config)
    params_list = [entities.Param(key, value) for key, value in params.items()]
    for chunk in _chunks(metrics, _BATCH["metrics"]):
        client.log_batch(run_id, metrics=chunk)
    for chunk in _chunks(params_list, _BATCH["params"]):
        client.log_batch(run_id, params=chunk)


def _params(config: Mapping[str, Any]) -> dict[str, str]:
    """The config flattened, keys made valid, values cut to MLflow's length limit."""
    out: dict[str, str] = {}
    for key, value in _tracking.flat_config(config).items():
        text = value if len(value) <= _MAX_PARAM else value[: _MAX_PARAM - 1] + "…"
        out[mlflow_key(key)[:250]] = text
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _artifacts(client: Any, run_id: str, report: ReportInput, names: Sequence[str]) -> None:
    """Log the files of the ``artifacts`` exporters, rendered from the same report input."""
    with tempfile.TemporaryDirectory(prefix="calibrax-mlflow-") as folder:
        for name in names:
            exporter = get_exporter(name)
            path = Path(folder) / exporter.filename
            path.write_text(exporter.render(report), encoding="utf-8")
            client.log_artifact(run_id, str(path))


EXPORTERS.register(MlflowExporter.name, MlflowExporter())
