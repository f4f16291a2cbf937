"""Sweeps: job markers, spooled results, ingestion, resuming, and one exit code per sweep.

Every job of a ``calibrax-run -m`` sweep writes a marker file ``calibrax-job.json`` into its
job folder (``multirun/DATE/TIME/N/``) when it starts and again when it ends. With
``store.mode=spool`` (remote launchers such as SLURM, where jobs cannot share one SQLite
file) a job also writes its whole run as ``calibrax-result.json`` there. When the sweep ends,
the submitting process loads the spooled results into the store (idempotently: run ids are
primary keys), records jobs that started but never finished as interrupted, and derives one
exit code from every job's marker, whichever launcher ran them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calibrax.core.errors import NotFoundError
from calibrax.core.exitcodes import ExitCode, combine_exit_codes
from calibrax.core.models import CaseStatus, RunInfo, RunStatus
from calibrax.core.result import RunRecord, record_from_dict
from calibrax.storage import Store
from calibrax.validation import entry_from_dict

__all__ = [
    "JOB_MARKER",
    "RESULT_FILE",
    "SweepSummary",
    "finalize_sweep",
    "ingest",
    "job_overrides",
    "read_markers",
    "resumable_run",
    "write_marker",
]

log = logging.getLogger("calibrax")

JOB_MARKER = "calibrax-job.json"
RESULT_FILE = "calibrax-result.json"
JOB_STORE = "calibrax-job.db"


def write_marker(job_dir: Path, **fields: Any) -> None:
    """Write (or update) the job's marker atomically: state, run id, exit code, error."""
    job_dir.mkdir(parents=True, exist_ok=True)
    path = job_dir / JOB_MARKER
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(fields)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(current, indent=2, default=str))
    os.replace(tmp, path)


def read_markers(sweep_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every job folder of a sweep with its marker (an empty dict when it has none)."""
    out = []
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()] if sweep_dir.is_dir() else []
    for job in sorted(jobs, key=lambda p: int(p.name)):
        marker = job / JOB_MARKER
        try:
            out.append((job, json.loads(marker.read_text()) if marker.exists() else {}))
        except json.JSONDecodeError:
            out.append((job, {}))
    return out


def job_overrides(overrides: Iterable[str]) -> tuple[str, ...]:
    """A job's overrides without the ``sweep.*`` keys: what identifies it across resumes.

    Example:
        >>> job_overrides(["params.matmul.n=256", "sweep.resume=true"])
        ('params.matmul.n=256',)
    """
    return tuple(sorted(o for o in overrides if not o.lstrip("+~").startswith("sweep.")))


def sweep_size(overrides: Sequence[str], params: Mapping[str, Any] | None = None) -> int | None:
    """How many jobs Hydra's basic sweeper makes of a ``-m`` command line: the product of the
    number of values of each sweep (``a=1,2,3``, ``range(0,4)``, ``choice(...)``), the command
    line's sweeps replacing those of ``hydra.sweeper.params``. None when a sweep has no fixed
    count (an ``interval``, for an optimizing sweeper) or Hydra cannot parse the overrides.

    Example:
        >>> sweep_size(["params.mm.n=64,128,256", "profile=quick", "seed=range(0,2)"])
        6
        >>> sweep_size(["lr=interval(0,1)"]) is None
        True
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    texts = {str(k): f"{k}={v}" for k, v in (params or {}).items()}
    parser = OverridesParser.create()
    try:
        for override in parser.parse_overrides(list(overrides)):
            texts[override.key_or_group] = override.input_line or ""
        parsed = parser.parse_overrides([t for t in texts.values() if t])
    except HydraException:
        return None
    total = 1
    for override in parsed:
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                return None
            total *= len(list(override.sweep_string_iterator()))
    return total


def job_exit_code(job_dir: Path) -> int | None:
    """The exit code a finished job wrote into its marker (None: no marker, or not finished)."""
    try:
        marker = json.loads((job_dir / JOB_MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    code = marker.get("exit_code") if marker.get("state") == "done" else None
    return int(code) if isinstance(code, int) else None


def resumable_run(store: Store, sweep_id: str | None, overrides: Sequence[str]) -> tuple[str, RunInfo | None]:
    """The sweep to resume and this job's ok run in it, if it has one.

    Without ``sweep_id`` the most recent sweep in the store is resumed.

    Raises:
        NotFoundError: there is no sweep to resume.
    """
    runs = store.list_runs()
    if sweep_id is None:
        swept = [r for r in runs if r.sweep_id]
        if not swept:
            raise NotFoundError("sweep.resume=true found no sweep in the store to resume; run the sweep first.")
        sweep_id = swept[0].sweep_id
    mine = job_overrides(overrides)
    for run in runs:
        if run.sweep_id == sweep_id and run.status is RunStatus.OK and job_overrides(run.overrides) == mine:
            return str(sweep_id), run
    return str(sweep_id), None


def ingest(store: Store, records: Iterable[RunRecord],
           validations: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Load runs into the store; runs already stored are left alone. Returns the ids added.

    A case's artifacts (``CaseResult.artifacts``, such as a trace) are stored with it by
    :meth:`Store.add_case`, and ``validations`` (run id -> ``{"gate", "entries"}`` as spooled) with its run.
    """
    added = []
    for record in records:
        try:
            store.resolve_run_id(record.run.id)
            continue
        except NotFoundError:
            pass
        store.begin_run(record.run)
        for case in record.cases:
            store.add_case(record.run.id, case)
        for result in record.benchmarks:
            store.add_benchmark_result(record.run.id, result)
        checks = (validations or {}).get(record.run.id)
        if checks and checks.get("entries"):
            store.add_validation(record.run.id, [entry_from_dict(e) for e in checks["entries"]],
                                 gate=bool(checks.get("gate")))
        if record.verdicts:
            store.add_verdicts(record.run.id, str(record.baseline.get("run_id", "")), record.verdicts)
        store.finish_run(record.run.id, record.run.status if record.run.status is not RunStatus.RUNNING
                         else RunStatus.INTERRUPTED, record.run.finished_at or record.run.started_at)
        added.append(record.run.id)
    return added


def result_files(path: Path) -> list[Path]:
    """Spooled result files under ``path`` (a sweep folder, a job folder or one file)."""
    if path.is_file():
        return [path]
    return sorted(path.rglob(RESULT_FILE))


def ingest_path(store: Store, path: Path) -> list[str]:
    """Load every spooled run under ``path`` into ``store``; returns the ids added.

    A job folder with a private store but no result file belongs to a job that was killed:
    its finished cases are loaded from that store and the run reads ``interrupted``.

    Raises:
        NotFoundError: ``path`` does not exist.
    """
    if not path.exists():
        raise NotFoundError(f"Nothing to ingest at {path}: give a sweep folder (multirun/DATE/TIME), a job folder or a {RESULT_FILE}.")
    raw = [json.loads(p.read_text(encoding="utf-8")) for p in result_files(path)]
    records = [record_from_dict(data) for data in raw]
    validations = {data["run"]["id"]: data["validation"] for data in raw if data.get("validation")}
    done = {p.parent for p in result_files(path)}
    for job_db in sorted(path.rglob(JOB_STORE)) if path.is_dir() else []:
        if job_db.parent not in done:
            with Store.open(job_db, create=False) as job_store:
                records += [job_store.load_run(r.id) for r in job_store.list_runs()]
    return ingest(store, records, validations)


@dataclass(frozen=True)
class SweepSummary:
    """What finishing a sweep found: jobs, their codes, runs ingested and crashed jobs."""

    jobs: int
    exit_code: int
    ingested: tuple[str, ...]
    crashed: tuple[str, ...]


def finalize_sweep(sweep_dir: Path, store: Store) -> SweepSummary:
    """Ingest spooled results, record crashed jobs, and derive the sweep's exit code."""
    markers = read_markers(sweep_dir)
    added = ingest_path(store, sweep_dir) if sweep_dir.exists() else []
    codes, crashed = [], []
    for job, marker in markers:
        if marker.get("state") == "done":
            codes.append(int(marker.get("exit_code", ExitCode.OK)))
            continue
        crashed.append(job.name)
        codes.append(ExitCode.BENCHMARK_FAILED)
        run_id = marker.get("run_id")
        if run_id:
            _mark_interrupted(store, str(run_id))
    return SweepSummary(len(markers), combine_exit_codes(codes), tuple(added), tuple(crashed))


def _mark_interrupted(store: Store, run_id: str) -> None:
    try:
        run = store.get_run(run_id)
    except NotFoundError:
        return
    if run.status is RunStatus.RUNNING:
        store.finish_run(run_id, RunStatus.INTERRUPTED, run.started_at)


def skipped_cases(planned: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], reason: str) -> list[Any]:
    """CaseResults recording that a job's cases were skipped, with the reason."""
    from calibrax.core.models import CaseResult

    return [CaseResult(name, dict(p), CaseStatus.SKIPPED, error=reason) for name, points in planned for p in points]


__all__ += ["JOB_STORE", "ingest_path", "job_exit_code", "result_files", "skipped_cases", "sweep_size"]
