"""Orchestrate one run: resolve -> measure -> store -> check -> export -> exit code.

``run_benchmarks`` takes the composed config as a plain mapping, so it runs the same from
the Hydra app, from tests and from a notebook.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calibrax.analysis.regression import GatePolicy
from calibrax.ci.guard import CheckResult, check_run, policy_from_config
from calibrax.core.benchmark import BENCHMARKS, expand_grid
from calibrax.core.errors import ConfigError, HardwareUnavailableError, NotFoundError
from calibrax.core.exitcodes import ExitCode
from calibrax.core.models import CaseResult, CaseStatus, GitInfo, RunInfo, RunStatus, Verdict
from calibrax.core.registry import unknown_name_message
from calibrax.exporters import (
    ExportOutcome,
    export_all,
    format_seconds,
    get_exporter,
    with_baseline,
    with_report_data,
)
from calibrax.profiling.base import ProfilingOptions
from calibrax.profiling.hardware import apply_platform, device_info, hardware_info, host_info
from calibrax.profiling.timing import TimingProtocol
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.cold import with_cold_compile
from calibrax.runner.execute import load_benchmark, run_case, summarised, utc_now
from calibrax.runner.interleaved import TrialSettings, interleaved_gate
from calibrax.runner.isolation import WorkerJob, probe_device, run_isolated
from calibrax.runner.profilers import check_profilers, profiling_options, with_complexity
from calibrax.runner.quality import MetricSpec, parse_metric_specs, threshold_verdicts
from calibrax.runner.sweep import JOB_STORE, RESULT_FILE, skipped_cases
from calibrax.runner.validation import ValidationSpec, gating_violations, parse_validation, validation_entries
from calibrax.runner.worktree import resolve_commit
from calibrax.storage import Store
from calibrax.validation import ValidationReport, entry_to_dict, validation_report

__all__ = ["PlannedBenchmark", "RunOutcome", "exit_code_for", "plan_run", "run_benchmarks"]

log = logging.getLogger("calibrax")



def protocol_settings(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a ``profile`` config that make a :class:`TimingProtocol`."""
    return {f.name: profile[f.name] for f in fields(TimingProtocol) if f.name in profile}


@dataclass(frozen=True)
class PlannedBenchmark:
    """A benchmark about to run: where it comes from and its grid points."""

    name: str
    source: str | None
    cases: tuple[dict[str, Any], ...]
    metrics: tuple[MetricSpec, ...] = ()  # quality metrics computed on the Workload's outputs
    validation: ValidationSpec | None = None  # checks of its validation: block, when it declares any


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


def _selected_names(cfg: Mapping[str, Any]) -> list[str]:
    chosen = cfg.get("benchmarks")
    names = list(chosen if chosen is not None else (cfg.get("suite") or {}).get("benchmarks") or [])
    names += [n for n in cfg.get("extra_benchmarks") or [] if n not in names]
    if not names:
        raise ConfigError(
            "No benchmarks to run: the suite lists none and benchmarks= is empty. Name some, "
            "e.g. benchmarks=[matmul], or pick a suite with suite=default."
        )
    return names


def plan_run(cfg: Mapping[str, Any], catalog: Mapping[str, BenchmarkEntry]) -> list[PlannedBenchmark]:
    """Resolve benchmark names and grids; every unknown name is a ConfigError (exit 2)."""
    known = sorted(set(catalog) | set(BENCHMARKS.names()))
    params_cfg = cfg.get("params") or {}
    planned = []
    for name in _selected_names(cfg):
        if name not in known:
            raise ConfigError(unknown_name_message("benchmark", name, known))
        entry = catalog.get(name)
        grid = params_cfg.get(name)
        if grid is None:
            grid = dict(entry.params) if entry else dict(BENCHMARKS.get(name).params)
        metrics = tuple(parse_metric_specs(name, entry.metrics)) if entry and entry.metrics else ()
        validation = None
        if entry is not None and entry.validation:
            validation = parse_validation(name, entry.validation, f"Benchmark config {entry.config_file}")
        planned.append(PlannedBenchmark(name, entry.source if entry else None, tuple(expand_grid(grid)), metrics,
                                        validation))
    for name in params_cfg:
        if name not in known:
            raise ConfigError(f"params.{name}: " + unknown_name_message("benchmark", name, known))
    return planned


def _protocol(profile: Mapping[str, Any]) -> TimingProtocol:
    return TimingProtocol(**protocol_settings(profile))


def _git_info(cwd: Path) -> GitInfo:
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


def exit_code_for(cases: Sequence[CaseResult], check: CheckResult | None,
                  validation: ValidationReport | None = None) -> int:
    """3 when a case did not end ok, else 1 on a regression or a violation of a gating
    validation check, else 0."""
    if any(c.status is not CaseStatus.OK for c in cases):
        return ExitCode.BENCHMARK_FAILED
    if check is not None and check.regressions:
        return ExitCode.REGRESSION
    if validation is not None and gating_violations(validation.entries):
        return ExitCode.REGRESSION
    return ExitCode.OK


def _with_benchmark_thresholds(cfg: Mapping[str, Any], catalog: Mapping[str, BenchmarkEntry],
                               planned: Sequence[PlannedBenchmark]) -> dict[str, Any]:
    """The config with each planned benchmark's own YAML thresholds merged into
    ``thresholds.benchmarks``, so the stored config holds the whole gate policy."""
    thresholds = dict(cfg.get("thresholds") or {})
    per_bench = {b: dict(m) for b, m in (thresholds.get("benchmarks") or {}).items()}
    for bench in planned:
        entry = catalog.get(bench.name)
        if entry is not None and entry.thresholds:
            per_bench[bench.name] = {**dict(entry.thresholds), **per_bench.get(bench.name, {})}
    thresholds["benchmarks"] = per_bench
    return {**cfg, "thresholds": thresholds}


def _validate_outputs(cfg: Mapping[str, Any], store: Store, cwd: Path) -> None:
    check_profilers(cfg)
    for name in cfg.get("exporters") or []:
        get_exporter(name)
    ci = cfg.get("ci") or {}
    if ci.get("mode") == "interleaved":
        if not ci.get("ref"):
            raise ConfigError("ci=interleaved needs the git ref to compare with: ci.ref=main (or HEAD~1, a sha).")
        resolve_commit(cwd, str(ci["ref"]))
    if ci.get("mode", "none") == "stored":
        if not ci.get("baseline"):
            raise ConfigError("ci=stored needs a baseline name: ci.baseline=main (see calibrax baseline list).")
        store.get_baseline(ci["baseline"])


def run_benchmarks(
    cfg: Mapping[str, Any],
    *,
    overrides: Sequence[str] = (),
    cwd: Path | None = None,
    catalog: Mapping[str, BenchmarkEntry] | None = None,
    sweep_id: str | None = None,
    spool_dir: Path | None = None,
    on_run_start: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run every selected benchmark, store each case, gate and export.

    Args:
        cfg: the composed config as plain containers.
        overrides: the command-line overrides, stored with the run.
        cwd: the folder the run belongs to (store and reports are relative to it).
        catalog: the benchmarks declared in YAML (found from ``cwd`` when not given).
        sweep_id: the sweep this run is a job of; an unavailable hardware target then makes a
            recorded skip instead of an error.
        spool_dir: with ``store.mode=spool``, the job folder: the store is a private file
            there and the finished run is also written there as JSON for ingestion.
        on_run_start: called with the new run's id before anything is measured.

    Raises:
        CalibraxError: a config, store or hardware problem found before anything is measured.
    """
    cwd = (cwd or Path.cwd()).resolve()
    catalog = discover_benchmarks(cwd) if catalog is None else catalog
    planned = plan_run(cfg, catalog)
    cfg = _with_benchmark_thresholds(cfg, catalog, planned)
    profile = cfg.get("profile") or {}
    protocol = _protocol(profile)
    policy = policy_from_config(cfg)
    store_cfg = cfg.get("store") or {}
    path = spool_dir / JOB_STORE if spool_dir is not None else cwd / store_cfg.get("path", "calibrax.db")
    store = Store.open(path, busy_timeout=float(store_cfg.get("busy_timeout", 30.0)))
    with store:
        _validate_outputs(cfg, store, cwd)
        platform = (cfg.get("hardware") or {}).get("platform")
        isolated = profile.get("isolation", "process") == "process"
        run = RunInfo(new_run_id(), utc_now(), RunStatus.RUNNING, _git_info(cwd), None, dict(cfg), tuple(overrides), sweep_id)
        if on_run_start is not None:
            on_run_start(run.id)
        try:
            device = _device(platform, isolated, float(profile.get("worker_start_timeout", 120.0)))
        except HardwareUnavailableError as exc:
            if sweep_id is None:
                raise
            return _record_skip(store, run, planned, str(exc), spool_dir)
        store.begin_run(run)
        hardware = hardware_info(host_info(), device)
        store.set_run_hardware(run.id, hardware)
        profiling = profiling_options(cfg, hardware, trace_root(profile, store.path, run.id))
        log.info("Run %s: %d benchmark(s), store %s", run.id, len(planned), store.path)
        worker_entries: dict[int, list[dict[str, Any]]] = {}
        try:
            cases = tuple(_measure_all(store, run.id, planned, protocol, profile, platform, cwd, isolated, profiling,
                                       worker_entries))
        except BaseException:
            store.finish_run(run.id, RunStatus.INTERRUPTED, utc_now())
            raise
        status = RunStatus.OK if all(c.status is CaseStatus.OK for c in cases) else RunStatus.FAILED
        store.finish_run(run.id, status, utc_now())
        report = _validate(store, run.id, planned, cases, worker_entries)
        check = _gate(store, run.id, cfg, cwd, planned, policy, threshold_verdicts(cases, policy))
        exported, report_dir = _export(store, run.id, cfg, cwd, check)
        if spool_dir is not None:
            _spool(store, run.id, check, spool_dir)
    return RunOutcome(run.id, status, cases, check, exported, report_dir, exit_code_for(cases, check, report), report)


def trace_root(profile: Mapping[str, Any], store_path: Path, run_id: str) -> str:
    """Where the ``tracing`` profiler writes this run's traces: ``profile.trace_dir`` (relative
    to the store's folder unless absolute) / run id.

    Example:
        >>> trace_root({}, Path("/work/calibrax.db"), "r1")
        '/work/traces/r1'
    """
    base = Path(str(profile.get("trace_dir") or "traces"))
    return str((base if base.is_absolute() else store_path.resolve().parent / base) / run_id)


def _validate(store: Store, run_id: str, planned: Sequence[PlannedBenchmark], cases: Sequence[CaseResult],
              worker_entries: Mapping[int, Sequence[Mapping[str, Any]]]) -> ValidationReport | None:
    """Run the validation checks the benchmarks declare, store the report and log its violations."""
    specs = {b.name: b.validation for b in planned if b.validation is not None}
    if not specs:
        return None
    entries = validation_entries(specs, cases, worker_entries)
    report = validation_report(run_id, entries, gate=any(s.gate for s in specs.values()))
    if entries:
        store.add_validation(run_id, report.entries, gate=report.gate)
    for entry in report.violations:
        log.warning("Validation: %s", entry.message)
    return report


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
        _spool(store, run.id, None, spool_dir)
    return RunOutcome(run.id, RunStatus.SKIPPED, cases, None, None, None, ExitCode.OK)


def _spool(store: Store, run_id: str, check: CheckResult | None, spool_dir: Path) -> None:
    """Write the finished run (its verdicts and validation checks) as JSON into the job folder,
    for ingestion."""
    record = store.load_run(run_id)
    if check is not None:
        record = replace(record, verdicts=check.verdicts,
                         baseline={"name": check.baseline_name, "run_id": check.baseline_run_id})
    payload = record.to_dict()
    entries, gate = store.load_validation(run_id)
    if entries:  # loaded back with the run by calibrax ingest
        payload["validation"] = {"gate": gate, "entries": [entry_to_dict(e) for e in entries]}
    tmp = spool_dir / f"{RESULT_FILE}.tmp"
    tmp.write_text(json.dumps(payload, default=str), encoding="utf-8")
    os.replace(tmp, spool_dir / RESULT_FILE)


def _device(platform: str | None, isolated: bool, timeout: float) -> dict[str, Any]:
    if isolated:
        return probe_device(platform, timeout)
    apply_platform(platform)
    return device_info(platform)


def _measure_all(
    store: Store, run_id: str, planned: Sequence[PlannedBenchmark], protocol: TimingProtocol,
    profile: Mapping[str, Any], platform: str | None, cwd: Path, isolated: bool, profiling: ProfilingOptions,
    worker_entries: dict[int, list[dict[str, Any]]],
) -> Iterator[CaseResult]:
    """Measure and store every case; the validation entries workers made are moved from each
    case's meta into ``worker_entries`` (by position in the run)."""
    seq = 0
    timeout = float(profile.get("case_timeout", 300.0))
    for bench in planned:
        checks = bench.validation.output_checks() if bench.validation is not None else []
        if isolated:
            job = WorkerJob(
                bench.name, bench.source, list(enumerate(bench.cases)),
                protocol_settings(profile), platform,
                [str(cwd)], timeout,
                float(profile.get("worker_start_timeout", 120.0)), profiling.to_dict(),
                [m.to_dict() for m in bench.metrics], checks,
            )
            results: Iterator[tuple[int, CaseResult]] = run_isolated(job)
        else:
            results = _in_process(bench, protocol, cwd, profiling, checks)
        for _, case in with_complexity(results, len(bench.cases), profiling.complexity):
            if profile.get("cold_compile"):
                case = with_cold_compile(case, bench.source, platform=platform, sys_path=[str(cwd)], timeout=timeout)
            if "validation" in case.meta:
                worker_entries[seq] = list(case.meta["validation"])
                case = replace(case, meta={k: v for k, v in case.meta.items() if k != "validation"})
            case = summarised(case)
            store.add_case(run_id, case)  # with the files its meta lists (a trace)
            _log_case(case)
            seq += 1
            yield case


def _in_process(bench: PlannedBenchmark, protocol: TimingProtocol, cwd: Path,
                profiling: ProfilingOptions, output_checks: Sequence[Mapping[str, Any]] = ()) -> Iterator[tuple[int, CaseResult]]:
    if str(cwd) not in sys.path:
        sys.path.insert(0, str(cwd))
    try:
        spec = load_benchmark(bench.name, bench.source)
    except Exception:
        error = f"Cannot load benchmark {bench.name!r}:\n{traceback.format_exc()}"
        for i, params in enumerate(bench.cases):
            yield i, CaseResult(bench.name, params, CaseStatus.ERROR, error=error, started_at=utc_now())
        return
    for i, params in enumerate(bench.cases):
        yield i, run_case(spec, params, protocol, profiling, bench.metrics, output_checks)


def _log_case(case: CaseResult) -> None:
    params = " ".join(f"{k}={v}" for k, v in case.params.items())
    t = case.measures.get("time")
    if case.status is CaseStatus.OK and t is not None and t.summary is not None:
        s = t.summary
        log.info("%-16s %-28s %s [%s, %s] (%d rounds x %s calls)", case.benchmark, params,
                 format_seconds(s.median), format_seconds(s.ci_low), format_seconds(s.ci_high), s.n, t.meta.get("calls_per_round"))
    else:
        first = (case.error or "").strip().splitlines()
        log.warning("%-16s %-28s %s: %s", case.benchmark, params, case.status.value.upper(), first[-1] if first else "")




def _gate(store: Store, run_id: str, cfg: Mapping[str, Any], cwd: Path, planned: Sequence[PlannedBenchmark],
          policy: GatePolicy, bounds: Sequence[Verdict]) -> CheckResult | None:
    """The run's verdicts: against the baseline of ``ci.mode``, and absolute bounds (quality
    thresholds such as ``accuracy: {min: 0.9}``), which gate even without a baseline."""
    ci = cfg.get("ci") or {}
    mode = ci.get("mode", "none")
    if mode == "stored":
        return check_run(store, run_id, ci["baseline"], policy)  # its verdicts include the bounds
    if mode != "interleaved":
        if not bounds:
            return None
        store.add_verdicts(run_id, "", bounds)
        return CheckResult(run_id, "thresholds", "", tuple(bounds))
    profile = cfg.get("profile") or {}
    settings = TrialSettings(protocol_settings(profile),
                             (cfg.get("hardware") or {}).get("platform"), float(profile.get("case_timeout", 300.0)),
                             float(profile.get("worker_start_timeout", 120.0)))
    ok_cases = {b.name: b.cases for b in planned}
    check, _ = interleaved_gate(cfg, cwd, run_id, list(ok_cases.items()), policy, settings)
    check = replace(check, verdicts=(*check.verdicts, *bounds))
    store.add_verdicts(run_id, check.baseline_run_id, check.verdicts)
    return check


def _export(store: Store, run_id: str, cfg: Mapping[str, Any], cwd: Path, check: CheckResult | None) -> tuple[ExportOutcome | None, Path | None]:
    names = list(cfg.get("exporters") or [])
    if not names:
        return None, None
    record = store.load_run(run_id)
    settings = cfg.get("exporter") or {}
    if check is not None:
        record = replace(record, verdicts=check.verdicts,
                         baseline={"name": check.baseline_name, "run_id": check.baseline_run_id})
        try:  # the reports draw the baseline's samples beside the run's
            settings = with_baseline(settings, names, store.load_run(check.baseline_run_id))
        except NotFoundError:
            log.info("Baseline run %s is not stored; reports show this run's samples only.", check.baseline_run_id)
    if "html" in names:  # the HTML report draws history, alerts and validation from the store
        settings = {**settings, "html": with_report_data(store, record, settings.get("html") or {})}
    out_dir = cwd / (cfg.get("report") or {}).get("dir", "reports") / run_id
    outcome = export_all(record, names, out_dir, settings)
    for name, reason in outcome.failed.items():
        log.warning("Exporter %s failed: %s", name, reason)
    return outcome, out_dir


__all__ += ["new_run_id", "trace_root"]
