"""One job of ``calibrax-run``: a single run, or one point of a ``-m`` sweep.

Adds to :func:`run_benchmarks` what a sweep needs: the job marker, resuming, the dry run,
spooling, and (for local launchers) a GPU and CPU cores of its own.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from calibrax.core.errors import CalibraxError
from calibrax.core.exitcodes import ExitCode
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.config import CalibraxConfig, StoreMode, SweepConfig, load_config
from calibrax.runner.plan import plan_run
from calibrax.runner.run import RunOutcome, run_benchmarks
from calibrax.runner.sweep import resumable_run, write_marker
from calibrax.storage import Store

__all__ = ["JobContext", "JobStopped", "run_job", "sweep_id_for"]


@dataclass(frozen=True)
class JobContext:
    """Where and how this job runs, from Hydra's runtime config."""

    overrides: tuple[str, ...]
    multirun: bool
    sweep_dir: Path | None
    job_dir: Path
    job_num: int
    remote: bool  # a cluster launcher (SLURM): it assigns GPUs and cores itself
    time_limit_s: float | None = None  # the cluster job's time limit (hydra.launcher.timeout_min), s


def sweep_id_for(explicit: str | None, sweep_dir: Path | None) -> str | None:
    """``sweep.id`` when set, else the sweep folder's last two parts (DATE_TIME).

    Example:
        >>> sweep_id_for(None, Path("multirun/2026-11-26/10-00-00"))
        '2026-11-26_10-00-00'
    """
    if explicit:
        return str(explicit)
    return "_".join(sweep_dir.parts[-2:]) if sweep_dir is not None else None


def run_job(cfg: CalibraxConfig | DictConfig, ctx: JobContext, catalog: Mapping[str, BenchmarkEntry] | None = None) -> int:
    """Run this job and return its exit code; a sweep job leaves a marker in its folder.

    A composed config is typed and checked here, so a bad setting is an ``Error:`` line and
    exit code 2 (this job's, in a sweep) before anything is measured.
    """
    if ctx.multirun:
        write_marker(ctx.job_dir, state="started", num=ctx.job_num, overrides=list(ctx.overrides), pid=os.getpid(),
                     **_slurm_job())
    try:
        code = _run(load_config(cfg), ctx, catalog)
    except CalibraxError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except JobStopped as exc:  # its run is stored as interrupted; the marker says the job did not finish
        print(f"Stopped: {exc}", file=sys.stderr)
        write_marker(ctx.job_dir, state="stopped")
        return ExitCode.BENCHMARK_FAILED
    if ctx.multirun:
        write_marker(ctx.job_dir, state="done", exit_code=code)
    return code


def _run(cfg: CalibraxConfig, ctx: JobContext, catalog: Mapping[str, BenchmarkEntry] | None) -> int:
    sweep = cfg.sweep
    cwd = Path.cwd()
    if sweep.dry_run:
        return _dry_run(cfg, ctx, catalog or discover_benchmarks(cwd))
    sweep_id = sweep_id_for(sweep.id, ctx.sweep_dir) if ctx.multirun else None
    if sweep.resume and ctx.multirun:
        with Store.open(cwd / cfg.store.path) as store:
            sweep_id, done = resumable_run(store, sweep.id, ctx.overrides)
        if done is not None:
            print(f"Job {ctx.job_num} already has ok run {done.id} in sweep {sweep_id}; skipped.")
            write_marker(ctx.job_dir, run_id=done.id, resumed_from=done.id)
            return 0
    assigned = _assign_local_resources(sweep, ctx.job_num) if ctx.multirun and not ctx.remote else None
    if ctx.remote:
        _handle_cluster_signals()
    if ctx.time_limit_s is not None:
        cfg = _within_time_limit(cfg, ctx.time_limit_s, _slurm_time_left())
    spool = cfg.store.mode is StoreMode.spool and ctx.multirun
    outcome = run_benchmarks(
        cfg, overrides=list(ctx.overrides), catalog=catalog, sweep_id=sweep_id,
        spool_dir=ctx.job_dir if spool else None,
        on_run_start=(lambda rid: write_marker(ctx.job_dir, run_id=rid)) if ctx.multirun else None,
        assigned=assigned,
    )
    _print_outcome(outcome)
    return outcome.exit_code


_STARTED = time.monotonic()  # about when the cluster job started this process
TIME_LIMIT_MARGIN_S = 20.0
"""Seconds a cluster job keeps after its cases before its time limit: to store and spool the run."""


def _slurm_time_left() -> float | None:
    """Seconds until this SLURM job's end time, as its controller says (None outside SLURM)."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job or shutil.which("scontrol") is None:
        return None
    out = subprocess.run(["scontrol", "-o", "show", "job", job], capture_output=True, text=True, timeout=30)
    end = re.search(r"\bEndTime=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", out.stdout)
    if out.returncode != 0 or end is None:
        return None
    return (datetime.fromisoformat(end.group(1)) - datetime.now()).total_seconds()  # both the node's local time


def _within_time_limit(cfg: CalibraxConfig, time_limit_s: float, left_s: float | None = None) -> CalibraxConfig:
    """``cfg`` with ``profile.case_timeout`` no longer than what is left of the job's time limit
    (``left_s`` as SLURM says, else ``time_limit_s`` from about this process's start), so a case
    that would outlive the job is stopped and stored as a timeout, and the run with it, before
    the cluster kills the job."""
    left = (left_s if left_s is not None else time_limit_s - (time.monotonic() - _STARTED)) - TIME_LIMIT_MARGIN_S
    if left >= cfg.profile.case_timeout:
        return cfg
    left = max(left, 1.0)
    print(f"The job's time limit (hydra.launcher.timeout_min={time_limit_s / 60:g}) leaves {left:.0f} s: "
          f"profile.case_timeout={left:.0f} s for this job's cases.")
    return dataclasses.replace(cfg, profile=dataclasses.replace(cfg.profile, case_timeout=left))


class JobStopped(BaseException):
    """The cluster is stopping this job (``scancel``, its time limit, preemption): SIGTERM came.

    A BaseException, like KeyboardInterrupt, so that nothing on the way stores the run as
    finished: the run is stored as interrupted with the cases it finished.
    """


def _stop(signum: int, frame: Any) -> None:
    raise JobStopped(f"the cluster stopped this job ({signal.Signals(signum).name}: scancel, time limit or "
                     "preemption); its run is stored as interrupted.")


def _handle_cluster_signals() -> None:
    """SIGTERM stops the job with its run interrupted; SLURM's early warning before the time
    limit (submitit's ``--signal=USR2@N``) is ignored.

    submitit logs SIGTERM and carries on (the case running then dies with its worker and the run
    would read as finished), and ends the job at USR2 with an error, ``signal_delay_s`` before
    the limit and before its run is stored; calibrax bounds its cases by the limit instead.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def _slurm_job() -> dict[str, str]:
    """This SLURM job's id as sacct and scontrol name it (``ARRAYID_TASK`` in an array), if any."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return {"slurm_job": f"{array}_{task}"}
    job = os.environ.get("SLURM_JOB_ID")
    return {"slurm_job": job} if job else {}


def _print_outcome(outcome: RunOutcome) -> None:
    print(f"Run {outcome.run_id}: {outcome.status.value}, {len(outcome.cases)} case(s), exit code {outcome.exit_code}")
    if outcome.validation is not None:
        for line in outcome.validation.lines():
            print(line)
    if outcome.check is not None:
        from calibrax.ci import summary_lines

        for line in summary_lines(outcome.check):
            print(line)
    if outcome.report_dir is not None:  # the page a person opens first, when an exporter declared one
        entry = outcome.exported.entry if outcome.exported is not None else None
        print(f"Report: {entry or outcome.report_dir}")


def _dry_run(cfg: CalibraxConfig, ctx: JobContext, catalog: Mapping[str, BenchmarkEntry]) -> int:
    planned = plan_run(cfg, catalog)
    where = f"job {ctx.job_num}" if ctx.multirun else "run"
    label = " ".join(ctx.overrides) or "(no overrides)"
    total = sum(len(b.cases) for b in planned)
    print(f"Dry run, {where}: {label}: {total} case(s)")
    for bench in planned:
        for point in bench.cases:
            print(f"  {bench.name} " + " ".join(f"{k}={v}" for k, v in point.items()))
    return 0


def _gpu_count() -> int:
    if shutil.which("nvidia-smi") is None:
        return 0
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    return sum(line.startswith("GPU ") for line in out.stdout.splitlines()) if out.returncode == 0 else 0


_GPUS: list[list[str]] = []  # the GPUs this process could see before a job narrowed them


def _visible_gpus() -> list[str]:
    if not _GPUS:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        _GPUS.append([g.strip() for g in visible.split(",") if g.strip()] if visible else
                     [str(i) for i in range(_gpu_count())])
    return _GPUS[0]


def _assign_local_resources(sweep: SweepConfig, job_num: int) -> dict[str, Any]:
    """One GPU per job when several are visible; with ``pin_cores``, one core per job.

    Launcher worker processes may run several jobs in turn, so the GPUs first visible to the
    process are remembered and each job picks from them.
    """
    assigned: dict[str, Any] = {}
    if sweep.assign_gpus:
        gpus = _visible_gpus()
        if len(gpus) > 1:
            os.environ["CUDA_VISIBLE_DEVICES"] = gpus[job_num % len(gpus)]
            assigned["gpu"] = os.environ["CUDA_VISIBLE_DEVICES"]
    if sweep.pin_cores and hasattr(os, "sched_setaffinity"):
        cores: Sequence[int] = sorted(os.sched_getaffinity(0))
        core = cores[job_num % len(cores)]
        os.sched_setaffinity(0, {core})
        assigned["cores"] = [core]
    return assigned
