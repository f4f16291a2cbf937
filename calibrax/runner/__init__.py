"""runner: resolve -> measure -> store -> check -> export, and the ``calibrax-run`` app."""

from calibrax.runner.catalog import BenchmarkEntry, config_dirs, discover_benchmarks, package_conf_dir
from calibrax.runner.run import PlannedBenchmark, RunOutcome, exit_code_for, plan_run, run_benchmarks

__all__ = [
    "BenchmarkEntry",
    "PlannedBenchmark",
    "RunOutcome",
    "config_dirs",
    "discover_benchmarks",
    "exit_code_for",
    "package_conf_dir",
    "plan_run",
    "run_benchmarks",
]
