"""One run from top to bottom: plan -> execute and record -> judge -> export -> exit code.

:func:`run_benchmarks` takes the typed config (or a partial mapping, made typed once by
:func:`~calibrax.runner.config.load_config`), so it runs the same from the Hydra app, from
tests and from a notebook. Each stage is a module with one entry point:

============  ===========================  ==========================================
stage         module                       entry point
============  ===========================  ==========================================
plan          ``runner/plan.py``           :func:`~calibrax.runner.plan.plan_run`
execute       ``runner/executors.py``      :func:`~calibrax.runner.executors.executor_for`
record        ``runner/record.py``         :func:`~calibrax.runner.record.record_all`
judge         ``runner/judge.py``          :func:`~calibrax.runner.judge.validate`, ``gate``
export        ``runner/export.py``         :func:`~calibrax.runner.export.export_run`
============  ===========================  ==========================================
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calibrax.ci import CheckResult, policy_from_config
from calibrax.core.errors import ConfigError, HardwareUnavailableError
from calibrax.core.exitcodes import ExitCode
from calibrax.core.models import CaseResult, CaseStatus, GitInfo, RunInfo, RunStatus
from calibrax.exporters import ExportOutcome, check_report_target, get_exporter
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.config import CalibraxConfig, CIMode, ProfileConfig, config_to_dict, load_config
from calibrax.runner.context import RunContext, RunStart
from calibrax.runner.execute import utc_now
from calibrax.runner.executors import executor_for, worker_server
from calibrax.runner.export import export_run, spool_run
from calibrax.runner.judge import exit_code_for, gate, validate
from calibrax.runner.plan import PlannedBenchmark, plan_run, protocol_settings, with_benchmark_thresholds
from calibrax.runner.profilers import check_profilers, profiling_options
from calibrax.runner.record import Recorded, record_all
from calibrax.runner.sweep import JOB_STORE, skipped_cases
from calibrax.runner.worktree import resolve_commit
from calibrax.storage import Store
from calibrax.validation import ValidationReport

PLAN_KEY = "plan"
"""The key of a stored run config that holds what the plan resolved (each benchmark's
``grid_source`` and declared ``quality_metrics``); the rest loads back into the typed config."""

__all__ = ["PlannedBenchmark", "RunOutcome", "exit_code_for", "git_info", "new_run_id", "plan_run",
           "protocol_settings", "run_benchmarks", "trace_root"]

log = logging.getLogger("calibrax")


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: its id, status, gate result, report, exit code and validation."""

    run_id: str
    status: RunStatus
    cases: tuple[CaseResult, ...]
    check: CheckResult | None
    exported: ExportOutcome | None
    report_dir: Path | None
    exit_code: int
    validation: ValidationReport | None = None


def git_info(cwd: Path) -> GitInfo:
    """The commit, branch and dirty flag of the git checkout at ``cwd`` (empty outside one)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return GitInfo()
    status = git("status", "--porcelain", "--untracked-files=no")
    return GitInfo(commit, git("rev-parse", "--abbrev-ref", "HEAD"), bool(status))


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYmmdd-HHMMSS-xxxxxx``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def trace_root(profile: ProfileConfig, store_path: Path, run_id: str) -> str:
    """Where the ``tracing`` profiler writes this run's traces: ``profile.tracing.dir`` (relative
    to the store's folder unless absolute) / run id.

    Example:
        >>> trace_root(ProfileConfig(), Path("/work/calibrax.db"), "r1")
        '/work/traces/r1'
    """
    base = Path(profile.tracing.dir)
    return str((base if base.is_absolute() else store_path.resolve().parent / base) / run_id)


def _check_outputs(cfg: CalibraxConfig, store: Store, cwd: Path) -> None:
    """Everything the later stages need, checked before anything is measured (exit 2)."""
    check_profilers(cfg.profile)
    for name in cfg.exporters:
        get_exporter(name)
    if cfg.exporters:
        check_report_target(cwd / cfg.report.dir, folder=True, what="report.dir")
    ci = cfg.ci
    if ci.mode is CIMode.interleaved:
        if not ci.ref:
            raise ConfigError("ci=interleaved needs the git ref to compare with: ci.ref=main (or HEAD~1, a sha).")
        resolve_commit(cwd, str(ci.ref))
    if ci.mode is CIMode.stored:
        if not ci.baseline:
            raise ConfigError("ci=stored needs a baseline name: ci.baseline=main (see calibrax baseline list).")
        store.get_baseline(ci.baseline)


def run_benchmarks(
    cfg: CalibraxConfig | Mapping[str, Any],
    *,
    overrides: Sequence[str] = (),
    cwd: Path | None = None,
    catalog: Mapping[str, BenchmarkEntry] | None = None,
    sweep_id: str | None = None,
    spool_dir: Path | None = None,
    on_run_start: Callable[[str], None] | None = None,
    assigned: Mapping[str, Any] | None = None,
    planned: Sequence[PlannedBenchmark] | None = None,
) -> RunOutcome:
    """Run every selected benchmark, store each case, judge and export.

    Args:
        cfg: the typed config, or a mapping of the keys to change from the defaults.
        overrides: the command-line overrides, stored with the run.
        cwd: the folder the run belongs to (store and reports are relative to it).
        catalog: the benchmarks declared in YAML (found from ``cwd`` when not given).
        sweep_id: the sweep this run is a job of; an unavailable hardware target then makes a
            recorded skip instead of an error.
        spool_dir: with ``store.mode=spool``, the job folder: the store is a private file
            there and the finished run is also written there as JSON for ingestion.
        on_run_start: called with the new run's id before anything is measured.
        assigned: the GPU and cores a local sweep job was given, stored under ``sweep.assigned``.
        planned: the plan of ``cfg`` when the caller has made it already
            (:func:`~calibrax.runner.app.check_and_plan`); planned here otherwise.

    Raises:
        CalibraxError: a config, store or hardware problem found before anything is measured.
    """
    typed = load_config(cfg)
    cwd = (cwd or Path.cwd()).resolve()
    catalog = discover_benchmarks(cwd) if catalog is None else catalog
    planned = tuple(plan_run(typed, catalog) if planned is None else planned)
    typed = with_benchmark_thresholds(typed, catalog, planned)
    stored_config = config_to_dict(typed)
    stored_config["params"] = {**stored_config.get("params", {}), **{b.name: dict(b.grid) for b in planned}}
    stored_config[PLAN_KEY] = {  # what the plan resolved, beside the typed config it came from
        "grid_source": {b.name: b.grid_source for b in planned},
        "quality_metrics": {b.name: [m.name for m in b.metrics] for b in planned if b.metrics},
    }
    if assigned:
        stored_config["sweep"]["assigned"] = dict(assigned)
    policy = policy_from_config(stored_config)
    path = spool_dir / JOB_STORE if spool_dir is not None else cwd / typed.store.path
    with Store.open(path, busy_timeout=typed.store.busy_timeout) as store:
        _check_outputs(typed, store, cwd)
        run = RunInfo(new_run_id(), utc_now(), RunStatus.RUNNING, git_info(cwd), None, stored_config,
                      tuple(overrides), sweep_id)
        if on_run_start is not None:
            on_run_start(run.id)
        profiling = profiling_options(typed, None, trace_root(typed.profile, store.path, run.id))
        start = RunStart(store, run)
        ctx = RunContext(typed, cwd, store, run.id, planned, profiling, policy, spool_dir, start)
        try:
            return _measure_judge_export(ctx, start)
        except HardwareUnavailableError as exc:
            if sweep_id is None or start.begun:
                raise
            return _record_skip(store, run, planned, str(exc), spool_dir)


def _measure_judge_export(ctx: RunContext, start: RunStart) -> RunOutcome:
    log.info("Run %s: %d benchmark(s), store %s", ctx.run_id, len(ctx.planned), ctx.store.path)
    recorded = Recorded()
    try:
        server = worker_server(ctx.cfg, ctx.cwd, ctx.planned)
        with server or contextlib.nullcontext():
            record_all(ctx, executor_for(ctx.cfg, ctx.cwd, ctx.profiling, start, server), recorded)
    except HardwareUnavailableError:
        if start.begun:
            ctx.store.finish_run(ctx.run_id, RunStatus.INTERRUPTED, utc_now())
        raise
    except BaseException:
        ctx.begin()  # an interruption before the first device still leaves a stored run
        ctx.store.finish_run(ctx.run_id, RunStatus.INTERRUPTED, utc_now())
        raise
    ctx.begin()
    cases = tuple(recorded.cases)
    status = RunStatus.OK if all(c.status is CaseStatus.OK for c in cases) else RunStatus.FAILED
    ctx.store.finish_run(ctx.run_id, status, utc_now())
    report = validate(ctx, cases, recorded.worker_entries)
    check = gate(ctx, cases)
    exported, report_dir = export_run(ctx, check)
    if ctx.spool_dir is not None:
        spool_run(ctx.store, ctx.run_id, check, ctx.spool_dir)
    return RunOutcome(ctx.run_id, status, cases, check, exported, report_dir, exit_code_for(cases, check, report),
                      report)


def _record_skip(store: Store, run: RunInfo, planned: Sequence[PlannedBenchmark], reason: str,
                 spool_dir: Path | None) -> RunOutcome:
    """A sweep job whose hardware target is not here: a stored run of skipped cases, exit 0."""
    log.warning("Skipping this job: %s", reason)
    store.begin_run(run)
    cases = tuple(skipped_cases([(b.name, b.cases) for b in planned], reason))
    for case in cases:
        store.add_case(run.id, case)
    store.finish_run(run.id, RunStatus.SKIPPED, utc_now())
    if spool_dir is not None:
        spool_run(store, run.id, None, spool_dir)
    return RunOutcome(run.id, RunStatus.SKIPPED, cases, None, None, None, ExitCode.OK)
