"""runner: one run as a pipeline (plan -> execute and record -> judge -> export), and the
``calibrax-run`` app. See ``docs/architecture.md`` for the path of one run, stage by stage.

The names below load on first use, so a worker process (``calibrax.runner._worker``) imports
only what running a case needs, not the config, the store or the exporters.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calibrax.runner.catalog import BenchmarkEntry, config_dirs, discover_benchmarks, package_conf_dir
    from calibrax.runner.config import CalibraxConfig, config_to_dict, load_config
    from calibrax.runner.context import RunContext
    from calibrax.runner.executors import Executor, InProcessExecutor, IsolatedExecutor, executor_for
    from calibrax.runner.judge import exit_code_for
    from calibrax.runner.plan import PlannedBenchmark, plan_run
    from calibrax.runner.run import RunOutcome, run_benchmarks

_WHERE = {
    "BenchmarkEntry": "catalog",
    "CalibraxConfig": "config",
    "Executor": "executors",
    "InProcessExecutor": "executors",
    "IsolatedExecutor": "executors",
    "PlannedBenchmark": "plan",
    "RunContext": "context",
    "RunOutcome": "run",
    "config_dirs": "catalog",
    "config_to_dict": "config",
    "discover_benchmarks": "catalog",
    "executor_for": "executors",
    "exit_code_for": "judge",
    "load_config": "config",
    "package_conf_dir": "catalog",
    "plan_run": "plan",
    "run_benchmarks": "run",
}

__all__ = [
    "BenchmarkEntry",
    "CalibraxConfig",
    "Executor",
    "InProcessExecutor",
    "IsolatedExecutor",
    "PlannedBenchmark",
    "RunContext",
    "RunOutcome",
    "config_dirs",
    "config_to_dict",
    "discover_benchmarks",
    "executor_for",
    "exit_code_for",
    "load_config",
    "package_conf_dir",
    "plan_run",
    "run_benchmarks",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'calibrax.runner' has no attribute {name!r}")
    return getattr(importlib.import_module(f"calibrax.runner.{_WHERE[name]}"), name)
