"""The Python face of ``calibrax-run``: :func:`compose` a config and :func:`run` it, from a
script or a notebook, with the same overrides, checks and defaults as the command line.

``calibrax.compose`` and ``calibrax.run`` are these two functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from calibrax.core.errors import ConfigError
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.config import CalibraxConfig
from calibrax.runner.plan import PlannedBenchmark
from calibrax.runner.run import RunOutcome, run_benchmarks

__all__ = ["compose", "run"]


def _project(conf_dir: str | os.PathLike[str] | None) -> Path:
    """The project folder: the parent of ``conf_dir`` (which must be called ``conf``), or the
    current folder."""
    if conf_dir is None:
        return Path.cwd().resolve()
    conf = Path(conf_dir).resolve()
    if not conf.is_dir():
        raise ConfigError(f"conf_dir {str(conf_dir)!r} is not a folder; give the project's conf/ folder "
                          "(the one holding benchmark/ and suite/), or leave it out to use ./conf.")
    if conf.name != "conf":
        raise ConfigError(f"conf_dir must be a folder named conf (as calibrax-run reads ./conf), got {str(conf)!r}.")
    return conf.parent


def _argv(overrides: Sequence[str], benchmarks: Sequence[str] | None) -> list[str]:
    if isinstance(overrides, str):
        raise ConfigError(f"overrides must be a list of strings such as ['profile=quick'], got the string {overrides!r}.")
    argv = [str(o) for o in overrides]
    if benchmarks is not None:
        if isinstance(benchmarks, str):
            raise ConfigError(f"benchmarks must be a list of names such as ['matmul'], got the string {benchmarks!r}.")
        argv.append(f"benchmarks=[{','.join(benchmarks)}]")
    return argv


def _compose(argv: list[str], project: Path) -> tuple[CalibraxConfig, dict[str, BenchmarkEntry], list[PlannedBenchmark]]:
    """The typed config, checked exactly as ``calibrax-run`` checks it before measuring, with
    its catalog and its plan (made once, here)."""
    from calibrax.runner.app import check_and_plan

    catalog = discover_benchmarks(project)
    cfg, planned = check_and_plan(argv, project, catalog)
    return cfg, catalog, planned


def compose(overrides: Sequence[str] = (), *, benchmarks: Sequence[str] | None = None,
            conf_dir: str | os.PathLike[str] | None = None) -> CalibraxConfig:
    """The typed config ``calibrax-run`` would use with these overrides.

    Args:
        overrides: command-line overrides, e.g. ``["profile=quick", "params.matmul.n=[256]"]``.
        benchmarks: run exactly these benchmarks (the same as ``benchmarks=[...]``).
        conf_dir: the project's ``conf/`` folder (default: ``./conf`` when it exists); its
            parent is the project folder, where benchmark modules are found.

    Raises:
        ConfigError: an unknown key, benchmark or param, or a value of the wrong type.

    Example:
        >>> import calibrax
        >>> calibrax.compose(["profile=quick"], benchmarks=["matmul"]).benchmarks
        ['matmul']
    """
    return _compose(_argv(overrides, benchmarks), _project(conf_dir))[0]


def run(benchmarks: Sequence[str] | None = None, overrides: Sequence[str] = (), *,
        conf_dir: str | os.PathLike[str] | None = None) -> RunOutcome:
    """Run benchmarks as ``calibrax-run`` does and return the outcome instead of exiting.

    Every case is stored (``store.path``, relative to the project folder) and the configured
    exporters write the report; ``outcome.exit_code`` is what ``calibrax-run`` would exit with.

    Args:
        benchmarks: run exactly these benchmarks (default: the suite's list).
        overrides: command-line overrides, e.g. ``["profile=quick", "ci=stored", "ci.baseline=main"]``.
        conf_dir: the project's ``conf/`` folder (default: ``./conf``).

    Returns:
        The :class:`~calibrax.runner.RunOutcome`: run id, status, cases, gate result, report
        folder, exit code and validation.

    Raises:
        CalibraxError: a config, store or hardware problem found before anything is measured.

    Example:
        >>> import calibrax
        >>> outcome = calibrax.run(["softmax"], ["profile=quick", "params.softmax.cols=[8]"])  # doctest: +SKIP
        >>> outcome.exit_code, outcome.report_dir  # doctest: +SKIP
        (0, PosixPath('.../reports/20261207-101500-a1b2c3'))
    """
    project = _project(conf_dir)
    argv = _argv(overrides, benchmarks)
    cfg, catalog, planned = _compose(argv, project)
    return run_benchmarks(cfg, overrides=argv, cwd=project, catalog=catalog, planned=planned)
