"""One job of ``calibrax-run``: a single run, or one point of a ``-m`` sweep.

Adds to :func:`run_benchmarks` what a sweep needs: the job marker, resuming, the dry run,
spooling, and (for local launchers) a GPU and CPU cores of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from calibrax.core.errors import CalibraxError
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.config import CalibraxConfig, StoreMode, SweepConfig, load_config
from calibrax.runner.plan import plan_run
from calibrax.runner.run import RunOutcome, run_benchmarks
from calibrax.runner.sweep import resumable_run, write_marker
from calibrax.storage import Store

__all__ = ["JobContext", "run_job", "sweep_id_for"]


@dataclass(frozen=True)
class JobContext:
    """Where and how this job runs, from Hydra's runtime config."""

    overrides: tuple[str, ...]
    multirun: bool
    sweep_dir: Path | None
    job_dir: Path
    job_num: int
    remote: bool  # a cluster launcher (SLURM): it assigns GPUs and cores itself


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
        write_marker(ctx.job_dir, state="started", num=ctx.job_num, overrides=list(ctx.overrides), pid=os.getpid())
    try:
        code = _run(load_config(cfg), ctx, catalog)
    except CalibraxError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        code = exc.exit_code
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
    spool = cfg.store.mode is StoreMode.spool and ctx.multirun
    outcome = run_benchmarks(
        cfg, overrides=list(ctx.overrides), catalog=catalog, sweep_id=sweep_id,
        spool_dir=ctx.job_dir if spool else None,
        on_run_start=(lambda rid: write_marker(ctx.job_dir, run_id=rid)) if ctx.multirun else None,
        assigned=assigned,
    )
    _print_outcome(outcome)
    return outcome.exit_code


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
