"""Trials forked from a fork server: a fresh process each, the isolation guarantees of plain
workers (a crash is data, a hang is killed, nothing outlives the caller), and a refusal when a
benchmark source would start a JAX backend in the server."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import BIN

from calibrax.core.models import CaseStatus
from calibrax.runner.forkserver import ForkServer, ForkServerUnavailable
from calibrax.runner.isolation import WorkerJob, run_isolated

MODULE = '''
import os, time
import calibrax


@calibrax.benchmark("whoami", params={"mode": ["ok"]})
def whoami(mode):
    with open(os.environ["FS_PIDS"], "a") as f:
        f.write(f"{os.getpid()}\\n")
    if mode == "crash":
        os._exit(7)
    if mode == "hang":
        time.sleep(300)
    return calibrax.Workload(lambda: None)
'''

PROTOCOL = {"min_rounds": 3, "min_time": 0.0, "warmup_time": 0.0}


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fs")
    (path / "fsbench.py").write_text(MODULE)
    os.environ["FS_PIDS"] = str(path / "pids.txt")
    return path


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[ForkServer]:
    with ForkServer([str(folder)], ["fsbench"], start_timeout=240) as s:
        yield s


def _job(folder: Path, server: ForkServer, *modes: str, case_timeout: float = 60) -> WorkerJob:
    return WorkerJob("whoami", "fsbench", [(i, {"mode": m}) for i, m in enumerate(modes)], PROTOCOL, None,
                     [str(folder)], case_timeout, 120, server=server)


@pytest.mark.slow
def test_each_trial_is_a_fresh_process_forked_from_the_server(folder: Path, server: ForkServer) -> None:
    for _ in range(2):
        [(_, case)] = list(run_isolated(_job(folder, server, "ok")))
        assert case.status is CaseStatus.OK, case.error
    pids = [int(p) for p in (folder / "pids.txt").read_text().split()]
    assert len(set(pids[-2:])) == 2 and server.proc.pid not in pids
    assert all(psutil.Process(server.proc.pid).pid != p and _dead(p) for p in pids[-2:])


@pytest.mark.slow
def test_a_crash_and_a_hang_are_data_and_the_next_case_still_runs(folder: Path, server: ForkServer) -> None:
    results = dict(run_isolated(_job(folder, server, "crash", "hang", "ok", case_timeout=5)))
    assert results[0].status is CaseStatus.CRASHED and "exited with code 7" in (results[0].error or "")
    assert results[1].status is CaseStatus.TIMEOUT and results[2].status is CaseStatus.OK
    assert server.proc.poll() is None  # the server outlives its trials


@pytest.mark.slow
def test_a_source_that_starts_a_backend_on_import_is_refused(tmp_path: Path) -> None:
    (tmp_path / "eager.py").write_text("import jax.numpy as jnp\nX = jnp.ones(3)\n")
    with pytest.raises(ForkServerUnavailable, match="starts a JAX backend when imported"):
        ForkServer([str(tmp_path)], ["eager"], start_timeout=240)


@pytest.mark.slow
def test_the_server_and_a_running_trial_die_with_a_sigkilled_caller(folder: Path, tmp_path: Path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(
        "import sys\n"
        "from calibrax.runner.forkserver import ForkServer\n"
        "from calibrax.runner.isolation import WorkerJob, run_isolated\n"
        f"server = ForkServer([{str(folder)!r}], ['fsbench'], start_timeout=240)\n"
        "print(server.proc.pid, flush=True)\n"
        f"job = WorkerJob('whoami', 'fsbench', [(0, {{'mode': 'hang'}})], {PROTOCOL!r}, None, [{str(folder)!r}], "
        "300, 300, server=server)\n"
        "list(run_isolated(job))\n"
    )
    pids_file = tmp_path / "pids.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "FS_PIDS": str(pids_file)}
    caller = subprocess.Popen([str(BIN / "python"), str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert caller.stdout is not None
        server_pid = int(caller.stdout.readline())
        deadline = time.monotonic() + 120
        while not pids_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        trial_pid = int(pids_file.read_text().split()[0])
        caller.kill()
        caller.wait()
        deadline = time.monotonic() + 5
        while not (_dead(server_pid) and _dead(trial_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _dead(server_pid) and _dead(trial_pid), (server_pid, trial_pid)
    finally:
        caller.kill()
        caller.wait()


@pytest.mark.slow
def test_closing_the_server_leaves_no_process(server: ForkServer) -> None:
    # last in this file: it stops the shared server (closing again at teardown does nothing)
    server.close()
    assert _dead(server.proc.pid)
