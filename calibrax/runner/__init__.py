"""runner: one run as a pipeline (plan -> execute and record -> judge -> export), and the
``calibrax-run`` app. See ``docs/architecture.md`` for the path of one run, stage by stage."""

from calibrax.runner.catalog import BenchmarkEntry, config_dirs, discover_benchmarks, package_conf_dir
from calibrax.runner.config import CalibraxConfig, config_to_dict, load_config
from calibrax.runner.context import RunContext
from calibrax.runner.executors import Executor, InProcessExecutor, IsolatedExecutor, executor_for
from calibrax.runner.judge import exit_code_for
from calibrax.runner.plan import PlannedBenchmark, plan_run
from calibrax.runner.run import RunOutcome, run_benchmarks

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
