"""Run the real pytest-benchmark, Google Benchmark and asv on tiny generated inputs.

The tests import these helpers; tests/fixtures/interop/README.md says which of them wrote the
committed fixture files, with which tool versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench", "-c", "init.defaultBranch=main"]

PYTEST_SUITE = '''
import pytest


def work(n):
    return sum(range(n))


@pytest.mark.parametrize("n", [100, 1000])
def test_sum(benchmark, n):
    benchmark(work, n)


def test_plain(benchmark):
    benchmark(work, 10)


def test_fails(benchmark):
    def boom():
        raise ValueError("boom")
    benchmark(boom)
'''

GOOGLE_SCRIPT = '''
import sys
import google_benchmark as benchmark


@benchmark.register
@benchmark.option.arg_names(["n"])
@benchmark.option.args([64])
@benchmark.option.args([512])
def sum_range(state):
    n = state.range(0)
    while state:
        sum(range(n))


@benchmark.register
def broken(state):
    while state:
        state.skip_with_error("broken input")
        break


if __name__ == "__main__":
    benchmark.main()
'''

ASV_CONF = {"version": 1, "project": "demo", "project_url": "", "repo": ".", "branches": ["main"],
            "environment_type": "existing", "benchmark_dir": "benchmarks", "results_dir": "results",
            "html_dir": "html"}

ASV_BENCH = '''
import pathlib
import time

DELAY = float((pathlib.Path(__file__).parent.parent / "delay.txt").read_text())


class TimeSleep:
    params = [1, 2]
    param_names = ["factor"]
    number = 1
    repeat = 5
    rounds = 1
    warmup_time = 0.0

    def time_sleep(self, factor):
        time.sleep(DELAY * factor)


def time_broken():
    raise RuntimeError("broken")


time_broken.number = 1
time_broken.repeat = 2
time_broken.rounds = 1
time_broken.warmup_time = 0.0


class TimeSkipped:
    number = 1
    repeat = 2
    rounds = 1
    warmup_time = 0.0

    def setup(self):
        raise NotImplementedError("not on this machine")

    def time_never(self):
        pass
'''


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, raising with its output when ``check`` and it fails."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}  # a child pytest is not an
    full.update(env or {})  # xdist worker of ours (pytest-benchmark saves nothing in a worker)
    full.pop("CALIBRAX_DB", None)
    done = subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def git_repo(folder: Path) -> None:
    """A git repo with everything in ``folder`` committed."""
    run([*GIT, "init", "-q", "."], folder)
    commit(folder, "first")


def commit(folder: Path, message: str, date: str | None = None) -> str:
    """Commit everything in ``folder``; returns the commit hash."""
    env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else None
    run([*GIT, "add", "-A"], folder)
    run([*GIT, "commit", "-q", "--allow-empty", "-m", message], folder, env)
    return run(["git", "rev-parse", "HEAD"], folder).stdout.strip()


def pytest_benchmark(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest-benchmark over the small suite in ``folder`` (a git repo, for commit_info)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "test_small.py").exists():
        (folder / "test_small.py").write_text(PYTEST_SUITE)
        git_repo(folder)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "test_small.py",
           "--benchmark-min-rounds=5", "--benchmark-max-time=0.000001", "--benchmark-warmup=off", *args]
    return run(cmd, folder, check=False)


def google_benchmark(folder: Path, out: Path, *args: str) -> dict[str, Any]:
    """Run a Google Benchmark script (Python bindings) writing JSON to ``out``; returns the JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "gbench.py"
    script.write_text(GOOGLE_SCRIPT)
    run([sys.executable, str(script), f"--benchmark_out={out}", "--benchmark_out_format=json",
         "--benchmark_min_time=0.002s", *args], folder)
    return dict(json.loads(out.read_text()))


def asv_project(folder: Path, delay: float = 0.002, bench: str = ASV_BENCH) -> Path:
    """A git repo with an asv project whose benchmarks sleep ``delay`` times a factor."""
    (folder / "benchmarks").mkdir(parents=True)
    (folder / "benchmarks" / "__init__.py").write_text("")
    (folder / "benchmarks" / "bench.py").write_text(bench)
    (folder / "asv.conf.json").write_text(json.dumps(ASV_CONF))
    (folder / "delay.txt").write_text(str(delay))
    git_repo(folder)
    home = folder.parent / "asv-home"
    home.mkdir(exist_ok=True)
    run([str(BIN / "asv"), "machine", "--yes", "--machine", "testbox", "--os", "Linux", "--arch", "x86_64",
         "--cpu", "Test CPU", "--num_cpu", "2", "--ram", "4000000"], folder, {"HOME": str(home)})
    return folder


def asv_run(folder: Path, commit_hash: str, *args: str) -> None:
    """``asv run`` in the current Python (existing environment), labelling the results with a commit."""
    home = folder.parent / "asv-home"
    done = run([str(BIN / "asv"), "run", f"--environment=existing:{sys.executable}", "--set-commit-hash",
                commit_hash, "--machine", "testbox", "--record-samples", *args], folder, {"HOME": str(home)},
               timeout=300, check=False)
    if done.returncode not in (0, 2):  # 2: a benchmark failed, which the test suites plant on purpose
        raise AssertionError(f"asv run exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
