"""``calibrax-run``: the Hydra application.

Before Hydra composes the config, every benchmark declared in ``conf/benchmark/`` (calibrax's
and the user's ``./conf``) or registered by a plugin is found, and a ``params`` node is
pre-filled for each, so ``params.matmul.n=512`` works without ``+``. Config mistakes exit 2
before anything runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import re
import sys
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from calibrax.core.benchmark import BENCHMARKS
from calibrax.core.errors import CalibraxError, ConfigError
from calibrax.core.exitcodes import ExitCode, combine_exit_codes
from calibrax.core.registry import unknown_name_message
from calibrax.exporters import sweep_exporter
from calibrax.runner.catalog import BenchmarkEntry, check_group_files, discover_benchmarks, package_conf_dir
from calibrax.runner.config import RENAMED_KEYS, CalibraxConfig, load_config, register_configs
from calibrax.runner.job import JobContext, run_job, sweep_id_for
from calibrax.runner.plan import PlannedBenchmark, plan_run
from calibrax.runner.progress import SweepProgress
from calibrax.runner.slurm import follow_slurm_jobs, local_jobs_report_at_once, wait_for_jobs
from calibrax.runner.sweep import finalize_sweep, job_exit_code, read_markers, sweep_size
from calibrax.runner.sweep_report import write_sweep_page
from calibrax.storage import Store

__all__ = ["SweepCallback", "check_config", "main"]

log = logging.getLogger("calibrax")


@dataclass
class _State:
    catalog: dict[str, BenchmarkEntry] = field(default_factory=dict)
    codes: list[int] = field(default_factory=list)
    started: bool = False
    sweep_dir: Path | None = None
    store_path: Path | None = None
    sweep_code: int | None = None
    sweep_id: str | None = None
    report_root: Path | None = None  # set when one of the sweep's exporters renders sweeps
    sweep_page_by: str | None = None  # that exporter's name (None: the first registered one that renders sweeps)
    slurm: bool = False  # the sweep's jobs were submitted to SLURM (Hydra's submitit launcher)
    progress: SweepProgress | None = None  # the sweep's per-job progress lines (local launchers)


_STATE = _State()


def _task(cfg: DictConfig) -> None:
    _STATE.started = True
    hc = HydraConfig.get()
    multirun = hc.mode is not None and hc.mode.name == "MULTIRUN"
    launcher = str(OmegaConf.select(cast(DictConfig, hc), "launcher._target_") or "")
    ctx = JobContext(
        overrides=tuple(hc.overrides.task),
        multirun=multirun,
        sweep_dir=Path(hc.sweep.dir) if multirun else None,
        job_dir=Path(hc.runtime.output_dir),
        job_num=int(hc.job.num) if multirun and hc.job.num is not None else 0,
        remote="Slurm" in launcher,
        time_limit_s=_time_limit_s(hc) if "Slurm" in launcher else None,
    )
    _STATE.codes.append(run_job(cfg, ctx, _STATE.catalog or None))


def _time_limit_s(hc: Any) -> float | None:
    """The SLURM job's time limit (``hydra.launcher.timeout_min``) in seconds, when set."""
    minutes = OmegaConf.select(hc, "launcher.timeout_min")
    return float(minutes) * 60 if minutes else None


class SweepCallback(Callback):
    """At the end of a ``-m`` sweep, on the submitting machine: ingest spooled results,
    record crashed jobs, and set the sweep's exit code from every job's marker."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _STATE.sweep_dir = Path(str(config.hydra.sweep.dir))
        _STATE.store_path = Path.cwd() / str(OmegaConf.select(config, "store.path") or "calibrax.db")
        explicit = OmegaConf.select(config, "sweep.id")
        resumed = bool(OmegaConf.select(config, "sweep.resume")) and not explicit  # resumes the latest sweep
        _STATE.sweep_id = "latest" if resumed else sweep_id_for(explicit, _STATE.sweep_dir)
        launcher = str(OmegaConf.select(config, "hydra.launcher._target_") or "")
        if launcher.endswith("submitit_launcher.SlurmLauncher"):
            _STATE.slurm = True
            follow_slurm_jobs()
        elif launcher.endswith("submitit_launcher.LocalLauncher"):
            local_jobs_report_at_once()
        params = OmegaConf.select(config, "hydra.sweeper.params")
        swept = {str(k): v for k, v in params.items()} if params else None
        size = sweep_size([str(o) for o in config.hydra.overrides.task], swept)
        _STATE.progress = None if _STATE.slurm else SweepProgress(size)  # SLURM jobs are followed by slurm.py
        page_by = sweep_exporter([str(n) for n in OmegaConf.select(config, "exporters") or []])
        if page_by is not None:
            _STATE.report_root = Path.cwd() / str(OmegaConf.select(config, "report.dir") or "reports")
            _STATE.sweep_page_by = page_by.name

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        _STATE.progress = None
        _finish_sweep()

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _STATE.progress is not None:  # a job run by the submitting process (a local launcher)
            _STATE.progress.job_started()

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        if _STATE.progress is None:
            return
        done = getattr(job_return, "hydra_cfg", None)  # the job's hydra node, as it ran
        hydra: Any = done.hydra if done is not None else HydraConfig.get()
        overrides = [str(o) for o in (getattr(job_return, "overrides", None) or hydra.overrides.task)]
        num = int(hydra.job.num or 0)
        _STATE.progress.job_ended(num, overrides, job_exit_code(Path(str(hydra.runtime.output_dir))))


def _finish_sweep() -> int:
    """Finish the sweep once (the callback, or ``main`` when a launcher raised first)."""
    if _STATE.sweep_code is not None or _STATE.sweep_dir is None or _STATE.store_path is None:
        return _STATE.sweep_code or 0
    states = wait_for_jobs() if _STATE.slurm else {}
    with Store.open(_STATE.store_path) as store:
        summary = finalize_sweep(_STATE.sweep_dir, store)
        page = _sweep_page(store)
    crashed = f", job(s) {', '.join(_with_slurm_state(summary.crashed, states))} did not finish" if summary.crashed else ""
    unstarted = _never_started(states)
    code = combine_exit_codes([summary.exit_code, ExitCode.BENCHMARK_FAILED]) if unstarted else summary.exit_code
    if unstarted:
        crashed += f", SLURM job(s) {', '.join(unstarted)} ended before calibrax started (see .submitit/ logs)"
    print(f"Sweep {_STATE.sweep_dir}: {summary.jobs} job(s){crashed}, {len(summary.ingested)} spooled run(s) "
          f"loaded, exit code {code}")
    if page is not None:
        print(f"Sweep report: {page}")
    _STATE.sweep_code = code
    return code


def _slurm_ids() -> dict[str, str]:
    """Job number -> the SLURM job that ran it, from the job markers."""
    if _STATE.sweep_dir is None:
        return {}
    return {job.name: str(marker.get("slurm_job", "")) for job, marker in read_markers(_STATE.sweep_dir)}


def _with_slurm_state(crashed: tuple[str, ...], states: dict[str, str]) -> list[str]:
    """Crashed job numbers, each with the state SLURM gave its job (``1 (SLURM: TIMEOUT)``)."""
    slurm_ids = _slurm_ids() if states else {}
    return [f"{num} (SLURM: {states[slurm_ids[num]]})" if slurm_ids.get(num) in states else num for num in crashed]


def _never_started(states: dict[str, str]) -> list[str]:
    """SLURM jobs that ended without a job marker (killed or failed before calibrax ran), with their state."""
    started = set(_slurm_ids().values()) if states else set()
    return [f"{job} ({state})" for job, state in states.items() if job not in started]


def _sweep_page(store: Store) -> Path | None:
    """Write the sweep's page when one of its exporters renders sweeps; a failure is logged and
    never changes the sweep's exit code (as for any exporter)."""
    if _STATE.report_root is None or _STATE.sweep_id is None:
        return None
    try:
        return write_sweep_page(store, _STATE.sweep_id, _STATE.report_root, exporter=_STATE.sweep_page_by)
    except Exception as exc:  # noqa: BLE001  (a report must not fail a measured sweep)
        log.warning("The sweep report of %s was not written: %s", _STATE.sweep_id, exc)
        return None


def known_params(catalog: dict[str, BenchmarkEntry]) -> dict[str, dict[str, Any]]:
    """Benchmark name -> its default grid, for every benchmark in YAML or registered by a plugin."""
    known: dict[str, dict[str, Any]] = {name: dict(e.params) for name, e in catalog.items()}
    for name, spec in BENCHMARKS.items():
        known.setdefault(name, {k: list(v) for k, v in spec.params.items()})
    return known


_TOP_LEVEL = {f.name for f in fields(CalibraxConfig)} | {"hydra"}
_FLAGS_WITH_VALUE = {"--shell-completion", "-sc"}  # Hydra flags whose next word holds an '='



def _check_schema_path(arg: str, parts: list[str]) -> bool:
    """Walk a dotted key through the config dataclasses; an unknown field is a ConfigError with
    close matches. A key under a free-form mapping (``thresholds.measures.time.margin``) is
    left to the typed config's own checks. True when the whole key is a dataclass field."""
    node: Any = CalibraxConfig
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(node):
            return False
        hints = typing.get_type_hints(node)
        if part not in hints:
            where = ".".join(parts[:depth])
            moved = RENAMED_KEYS.get(".".join(parts[: depth + 1]))
            if moved is not None:
                raise ConfigError(f"In override {arg!r}: {where}.{part} is now {moved}: write "
                                  f"{arg.replace('.'.join(parts[: depth + 1]), moved, 1)!r}.")
            close = difflib.get_close_matches(part, sorted(hints), n=3)
            did_you_mean = f" Did you mean {' or '.join(repr(f'{where}.{c}') for c in close)}?" if close else ""
            raise ConfigError(
                f"In override {arg!r}: {where} has no key {part!r}.{did_you_mean} Its keys are: "
                f"{', '.join(sorted(hints))} (each is commented in {node.__module__.replace('.', '/')}.py)."
            )
        node = hints[part]
    return True


def check_overrides(argv: list[str], known: dict[str, dict[str, Any]]) -> None:
    """Catch typos in overrides with clearer messages than Hydra's, before Hydra parses them.

    Checks every key, nested ones too (``profile.timr=...``), against the config dataclasses,
    and for ``params.<benchmark>.<param>=...`` the benchmark and param names. A ``+key`` or
    ``++key`` addition is checked the same way: calibrax's config has a fixed schema, so an
    addition can only set a key that exists (and then needs no ``+``). ``hydra.*`` keys and
    ``~`` deletions are left to Hydra.

    Raises:
        ConfigError: an unknown key, benchmark or param, with close matches.
    """
    after_flag = None
    for arg in argv:
        flag, after_flag = after_flag, arg
        if flag in _FLAGS_WITH_VALUE or arg.startswith(("-", "~")) or "=" not in arg:
            continue  # e.g. the install=bash of --shell-completion is Hydra's, not an override
        key = arg.split("=", 1)[0].lstrip("+")
        parts = key.split(".")
        head = re.split(r"[/@]", parts[0], maxsplit=1)[0]
        if head == "hydra":
            continue
        if head not in _TOP_LEVEL:
            raise ConfigError(f"In override {arg!r}: " + unknown_name_message("config key", head, sorted(_TOP_LEVEL)))
        if head != "params":
            fixed = len(parts) > 1 and head == parts[0] and _check_schema_path(arg, parts)
            if fixed and arg.startswith("+") and not arg.startswith("++"):
                raise ConfigError(
                    f"In override {arg!r}: {key} is already a calibrax setting, so it needs no '+' "
                    f"(Hydra's '+' appends a new key): write {arg[1:]!r}."
                )
            continue
        if len(parts) < 2:
            continue
        if parts[1] not in known:
            raise ConfigError(f"In override {arg!r}: " + unknown_name_message("benchmark", parts[1], sorted(known)))
        if len(parts) > 2 and parts[2] not in known[parts[1]]:
            allowed = sorted(known[parts[1]])
            raise ConfigError(
                f"In override {arg!r}: benchmark {parts[1]!r} has no param {parts[2]!r}. "
                + (f"Its params are: {', '.join(allowed)}." if allowed else "It declares no params.")
                + " Declare new ones under params: in its conf/benchmark YAML."
            )


_REF_KEYS = ("ci.ref",)
# Characters Hydra's override grammar takes in an unquoted value (letters, digits and these).
_UNQUOTED = re.compile(r"[\w/\-\\+.$%*@?|]*")


def quote_git_refs(argv: list[str]) -> list[str]:
    """Quote git ref overrides (``ci.ref=HEAD~1``, ``ci.ref=v1.2^``) so Hydra reads them verbatim.

    Hydra's override grammar has no unquoted form for ``~``, ``^`` or ``{``; a ref value with
    such a character is wrapped in single quotes (``\\`` and ``'`` escaped) before Hydra parses
    the command line. A value already quoted, or made only of characters Hydra accepts, is left
    as it is.

    Example:
        >>> quote_git_refs(["ci=interleaved", "ci.ref=HEAD~1", "ci.ref=main"])
        ['ci=interleaved', "ci.ref='HEAD~1'", 'ci.ref=main']
    """
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+") in _REF_KEYS and value[:1] not in ("'", '"') and not _UNQUOTED.fullmatch(value):
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
            arg = f"{key}={value}"
        out.append(arg)
    return out


def _precheck(argv: list[str], cwd: Path | None = None,
              catalog: dict[str, BenchmarkEntry] | None = None) -> tuple[dict[str, BenchmarkEntry], list[str]]:
    """What ``calibrax-run`` checks before Hydra parses the command line: every benchmark file
    (with its interpolations) and the override keys; registers the schemas with Hydra.

    Returns:
        The catalog of benchmarks and the command line with git refs quoted.
    """
    catalog = discover_benchmarks(cwd) if catalog is None else catalog
    known = known_params(catalog)
    argv = quote_git_refs(argv)
    check_overrides(argv, known)
    check_group_files(argv, cwd)
    register_configs(known)
    return catalog, argv


def check_config(argv: Sequence[str], cwd: Path, catalog: dict[str, BenchmarkEntry] | None = None) -> CalibraxConfig:
    """The typed config of ``calibrax-run ARGV`` in ``cwd``, after every check of
    :func:`check_and_plan` (whose plan it drops).

    Raises:
        ConfigError: the first mistake, as calibrax-run reports it (exit code 2).

    Example:
        check_config(["profile=quick", "params.matmul.n=[]"], Path("."))  # raises ConfigError
    """
    return check_and_plan(argv, cwd, catalog)[0]


def check_and_plan(argv: Sequence[str], cwd: Path,
                   catalog: dict[str, BenchmarkEntry] | None = None) -> tuple[CalibraxConfig, list[PlannedBenchmark]]:
    """Every check ``calibrax-run ARGV`` makes in ``cwd`` before it measures, in this process:
    the benchmark files, the overrides, Hydra's composition, the typed settings and their
    ranges, and the plan of cases. Takes the overrides of one run (no ``-m`` sweep syntax);
    ``catalog`` skips finding the benchmark files again when they are known unchanged.

    Returns:
        The typed config and its plan, which :func:`~calibrax.runner.run_benchmarks` takes so
        that nothing is planned twice (a decorator grid is read in a child process).

    Raises:
        ConfigError: the first mistake, as calibrax-run reports it (exit code 2).

    Example:
        check_and_plan(["profile=quick", "params.matmul.n=[]"], Path("."))  # raises ConfigError
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with contextlib.chdir(cwd):  # Hydra finds the user's ./conf from the working folder
        catalog, args = _precheck(list(argv), cwd, catalog)
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(package_conf_dir()), version_base="1.3"):
                composed = compose("calibrax", overrides=args)
        except (HydraException, OmegaConfBaseException, ValueError) as exc:
            why = ": ".join(line.strip() for line in str(exc).splitlines()[:2] if line.strip())
            raise ConfigError(f"The command line does not compose: {why}.") from None
        finally:
            GlobalHydra.instance().clear()
        typed = load_config(composed)
        planned = plan_run(typed, catalog)
    return typed, planned


def main() -> None:
    """Entry point of ``calibrax-run``; exits 0, 1 (regression), 2 (config) or 3 (failed case)."""
    try:
        _STATE.catalog, sys.argv[1:] = _precheck(sys.argv[1:])
    except CalibraxError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    app = hydra.main(version_base="1.3", config_path=str(package_conf_dir()), config_name="calibrax")(_task)
    try:
        app()
    except KeyboardInterrupt:
        print("Interrupted: the run is stored as interrupted with the cases it finished.", file=sys.stderr)
        sys.exit(130)
    except SystemExit as exc:
        if _STATE.sweep_dir is not None:  # a launcher raised (e.g. a killed job): still finish the sweep
            sys.exit(_finish_sweep())
        if exc.code not in (0, None) and not _STATE.started:
            sys.exit(ExitCode.USAGE)  # Hydra rejected the config or the command line
        raise
    if _STATE.sweep_dir is not None:
        sys.exit(_finish_sweep())
    sys.exit(combine_exit_codes(_STATE.codes))
