"""No orphans: a benchmark's worker and the processes it started die with calibrax-run, even a
worker stuck in C code that holds the GIL, and a normal run leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from conftest import BIN, QUICK, run_cli

from calibrax.runner._reaper import Guard, die_with_parent
from calibrax.runner.cold import cold_compile

MODULE = '''
import os, re, subprocess, time
import calibrax


def _note(name, *pids):
    with open(name + ".tmp", "w") as f:
        f.write(" ".join(str(p) for p in pids))
    os.replace(name + ".tmp", name)


@calibrax.benchmark("spawns")
def spawns():
    """Starts a long child process, then runs for a minute."""
    child = subprocess.Popen(["sleep", "300"])
    _note("spawns.pids", os.getpid(), child.pid)
    return calibrax.Workload(lambda: time.sleep(60))


@calibrax.benchmark("holds_gil")
def holds_gil():
    """Stuck in the regex engine's C loop, which never lets go of the GIL."""
    _note("holds_gil.pids", os.getpid())
    re.match(r"(a|aa)+$", "a" * 80 + "b")
    return calibrax.Workload(lambda: None)


@calibrax.benchmark("spawns_quick")
def spawns_quick():
    """Starts a long child process and returns a quick workload."""
    child = subprocess.Popen(["sleep", "300"])
    _note("spawns_quick.pids", os.getpid(), child.pid)
    return calibrax.Workload(lambda: None)
'''


def _project(folder: Path) -> Path:
    (folder / "conf" / "benchmark").mkdir(parents=True)
    (folder / "orphanbench.py").write_text(MODULE)
    for name in ("spawns", "holds_gil", "spawns_quick"):
        (folder / "conf" / "benchmark" / f"{name}.yaml").write_text("source: orphanbench\nparams: {}\n")
    return folder


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _die_soon(pids: list[int], seconds: float = 10.0) -> bool:
    """A SIGKILLed process is gone once the kernel next schedules it: on a loaded machine that
    can take a moment after the kill returns."""
    deadline = time.monotonic() + seconds
    while not all(_dead(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, f"calibrax-run exited with {proc.returncode} before {path.name} appeared"
        assert time.monotonic() < deadline, f"{path.name} did not appear within {seconds} s"
        time.sleep(0.2)
    return [int(p) for p in path.read_text().split()]


@pytest.mark.slow
def test_workers_and_their_children_die_within_seconds_of_a_sigkilled_calibrax_run(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CALIBRAX_DB", None)
    runs = {name: subprocess.Popen([str(BIN / "calibrax-run"), f"benchmarks=[{name}]", "profile.case_timeout=300",
                                    "profile.worker_start_timeout=300", f"store.path={name}.db", *QUICK],
                                   cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name in ("spawns", "holds_gil")}
    try:
        pids = {name: _wait_for(project / f"{name}.pids", proc, 240) for name, proc in runs.items()}
        time.sleep(1.0)  # the worker is inside the regex or the workload now
        assert not any(_dead(pid) for group in pids.values() for pid in group)
        for proc in runs.values():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        left = [pid for group in pids.values() for pid in group]
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [pid for pid in left if not _dead(pid)]
        assert left == [], f"still running 5 s after calibrax-run was killed: {left} of {pids}"
    finally:
        for proc in runs.values():
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_normal_run_leaves_no_process_behind(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    res = run_cli("calibrax-run", "benchmarks=[spawns_quick]", *QUICK, cwd=project, timeout=240)
    assert res.returncode == 0, res.stdout + res.stderr
    worker, child = [int(p) for p in (project / "spawns_quick.pids").read_text().split()]
    assert _die_soon([worker, child])


def test_a_guard_kills_its_group_when_its_parent_is_sigkilled(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "from calibrax.runner._reaper import Guard\n"
        "guard = Guard()\n"
        "child = subprocess.Popen(['sleep', '300'], process_group=guard.pgid)\n"
        "print(guard.pgid, child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    parent = subprocess.Popen([str(BIN / "python"), str(script)], stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while not all(_dead(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_dead(p) for p in pids), pids


def test_die_with_parent_and_a_guard_in_process() -> None:
    guard = Guard()
    child = subprocess.Popen(["sleep", "300"], process_group=guard.pgid, preexec_fn=die_with_parent())
    assert os.getpgid(child.pid) == guard.pgid
    guard.close()
    assert child.wait(timeout=10) == -signal.SIGKILL
    guard.close()  # a second close does nothing


@pytest.mark.slow
def test_the_cold_compile_process_leaves_no_process_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "project")
    monkeypatch.chdir(project)  # the module writes its pid file in the working folder
    # The sleep child inherits the fresh process's output; cold_compile waits for the process
    # itself, not for that output to close, so it returns once the fresh process is done.
    started = time.monotonic()
    found = cold_compile("spawns_quick", "orphanbench", {}, platform="cpu", sys_path=[str(project)], timeout=240)
    worker, child = [int(p) for p in (project / "spawns_quick.pids").read_text().split()]
    assert _die_soon([worker, child]), found
    assert time.monotonic() - started < 200, f"cold_compile waited for the child's output: {found}"
