"""``calibrax-run``: the Hydra application.

Before Hydra composes the config, every benchmark declared in ``conf/benchmark/`` (calibrax's
and the user's ``./conf``) or registered by a plugin is found, and a ``params`` node is
pre-filled for each, so ``params.matmul.n=512`` works without ``+``. Config mistakes exit 2
before anything runs.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from calibrax.core.benchmark import BENCHMARKS
from calibrax.core.errors import CalibraxError, ConfigError
from calibrax.core.registry import unknown_name_message
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks, package_conf_dir
from calibrax.runner.config import CalibraxConfig, register_configs
from calibrax.runner.run import EXIT_BENCHMARK_FAILED, EXIT_REGRESSION, EXIT_USAGE, run_benchmarks

__all__ = ["main"]

log = logging.getLogger("calibrax")


@dataclass
class _State:
    catalog: dict[str, BenchmarkEntry] = field(default_factory=dict)
    codes: list[int] = field(default_factory=list)
    started: bool = False


_STATE = _State()


def combine_exit_codes(codes: list[int]) -> int:
    """One exit code for a sweep: 2 before 3 before 1 before 0.

    Example:
        >>> combine_exit_codes([0, 1, 3])
        3
    """
    for code in (EXIT_USAGE, EXIT_BENCHMARK_FAILED, EXIT_REGRESSION):
        if code in codes:
            return code
    return 0


def _task(cfg: DictConfig) -> None:
    _STATE.started = True
    hc = HydraConfig.get()
    container: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[assignment]
    sweep_id = None
    if hc.mode is not None and hc.mode.name == "MULTIRUN":
        # Every job of a sweep shares its sweep folder (multirun/DATE/TIME by default).
        sweep_id = "_".join(Path(hc.sweep.dir).parts[-2:])
    try:
        outcome = run_benchmarks(
            container, overrides=list(hc.overrides.task), catalog=_STATE.catalog or None, sweep_id=sweep_id
        )
    except CalibraxError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        _STATE.codes.append(exc.exit_code)
        return
    _STATE.codes.append(outcome.exit_code)
    where = outcome.report_dir / "index.html" if outcome.report_dir and outcome.exported and "html" in outcome.exported.written else outcome.report_dir
    print(f"Run {outcome.run_id}: {outcome.status.value}, {len(outcome.cases)} case(s), exit code {outcome.exit_code}")
    if outcome.check is not None:
        from calibrax.ci.guard import summary_lines

        for line in summary_lines(outcome.check):
            print(line)
    if where is not None:
        print(f"Report: {where}")


def _known_params(catalog: dict[str, BenchmarkEntry]) -> dict[str, dict[str, Any]]:
    known: dict[str, dict[str, Any]] = {name: dict(e.params) for name, e in catalog.items()}
    for name, spec in BENCHMARKS.items():
        known.setdefault(name, {k: list(v) for k, v in spec.params.items()})
    return known


_TOP_LEVEL = {f.name for f in fields(CalibraxConfig)} | {"hydra"}


def check_overrides(argv: list[str], known: dict[str, dict[str, Any]]) -> None:
    """Catch typos in plain ``key=value`` overrides with clearer messages than Hydra's.

    Checks the top-level key and, for ``params.<benchmark>.<param>=...``, the benchmark and
    param names. Overrides with ``+``, ``++`` or ``~`` are left to Hydra.

    Raises:
        ConfigError: an unknown key, benchmark or param, with close matches.
    """
    for arg in argv:
        if arg.startswith(("-", "+", "~")) or "=" not in arg:
            continue
        key = arg.split("=", 1)[0]
        parts = key.split(".")
        head = re.split(r"[/@]", parts[0], maxsplit=1)[0]
        if head not in _TOP_LEVEL:
            raise ConfigError(f"In override {arg!r}: " + unknown_name_message("config key", head, sorted(_TOP_LEVEL)))
        if head != "params" or len(parts) < 2:
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


def main() -> None:
    """Entry point of ``calibrax-run``; exits 0, 1 (regression), 2 (config) or 3 (failed case)."""
    try:
        _STATE.catalog = discover_benchmarks()
        known = _known_params(_STATE.catalog)
        check_overrides(sys.argv[1:], known)
        register_configs(known)
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
        if exc.code not in (0, None) and not _STATE.started:
            sys.exit(EXIT_USAGE)  # Hydra rejected the config or the command line
        raise
    sys.exit(combine_exit_codes(_STATE.codes))
