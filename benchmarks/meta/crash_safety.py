"""What random crashes and concurrent writers cost the store, and whether processes outlive a
killed run.

Scenarios, each printing figures against their goals:

- SIGKILL a multi-case ``calibrax-run`` (store=sqlite) at a random time, N times (default 30)
  over one store: integrity failures (``PRAGMA integrity_check``), lost finished cases (cases
  the run's output logged as finished before the kill, missing from the store) and orphan
  processes (anything still running in the project folder 5 s after the kill; each case's
  benchmark starts a ``sleep 300`` child). Goals: 0, 0, 0. Also shown: how many kills came
  after at least one case was logged (the others hit start-up).
- 16 processes each writing 50 cases (``Store.add_case``) into one store at once: lost rows
  and lock errors. Goals: 0, 0.
- SIGKILL N spooled SLURM sweep jobs on their node (benchmarks/meta/_slurm_kill.py), when a
  cluster answers ``sinfo``: integrity failures, lost finished cases, orphan processes. Goals:
  0, 0, 0. Adds about 7 minutes on 2 cores.

Run: ``.venv/bin/python benchmarks/meta/crash_safety.py [--kills 30] [--seed 0]`` (about 10
minutes on 2 cores: each calibrax-run starts JAX).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from calibrax.core import CalibraxError, CaseResult, CaseStatus, RunInfo, RunStatus, StoreError
from calibrax.storage import Store

BIN = Path(sys.executable).parent
CASES = 12
ORPHAN_GRACE_S = 5.0

MODULE = f'''
import subprocess, time
import calibrax


@calibrax.benchmark("crash_work", params={{"i": list(range({CASES}))}})
def crash_work(i):
    """A short sleep per call; each case also starts a long child process."""
    subprocess.Popen(["sleep", "300"])
    return calibrax.Workload(lambda: time.sleep(0.002))
'''


@dataclass(frozen=True)
class Options:
    """What the scenarios are asked to do."""

    kills: int
    writers: int
    cases: int
    seed: int
    folder: Path


@dataclass(frozen=True)
class Row:
    """One printed figure and its goal."""

    scenario: str
    figure: str
    value: int
    goal: int | None = 0  # None: a count shown for context, with no goal


# --- SIGKILL of a local run ------------------------------------------------------------------


def _project(folder: Path) -> Path:
    project = folder / "project"
    (project / "conf" / "benchmark").mkdir(parents=True)
    (project / "crashbench.py").write_text(MODULE)
    (project / "conf" / "benchmark" / "crash_work.yaml").write_text(
        f"source: crashbench\nparams: {{i: {list(range(CASES))}}}\n")
    return project


def _start(project: Path) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CALIBRAX_DB", None)
    proc = subprocess.Popen([str(BIN / "calibrax-run"), "benchmarks=[crash_work]", "profile=quick", "exporters=[]",
                             "store=sqlite"], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def _in_project(project: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid", "cwd", "status"]):
        try:
            if proc.info["cwd"] == str(project) and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _orphans(project: Path) -> int:
    deadline = time.monotonic() + ORPHAN_GRACE_S
    left = _in_project(project)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _in_project(project)
    for proc in left:  # counted; now cleared so the next kill starts clean
        try:
            proc.kill()
        except psutil.Error:
            pass
    return len(left)


def _integrity_ok(db: Path) -> bool:
    conn = sqlite3.connect(db)
    try:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _lost(db: Path, lines: list[str]) -> int:
    text = "".join(lines)
    run = re.search(r"Run (\S+): \d+ benchmark", text)
    logged = set(re.findall(r"crash_work\s+i=(\d+)\s", text))
    if run is None:
        return 0 if not logged else len(logged)
    with Store.open(db) as store:
        try:
            stored = {str(c.params["i"]) for c in store.load_run(run.group(1)).cases}
        except CalibraxError:  # killed before the run was stored
            stored = set()
    return len(logged - stored)


def sigkill_local_run(opts: Options) -> list[Row]:
    """SIGKILL a 12-case calibrax-run at random times over one store."""
    project = _project(opts.folder)
    db = project / "calibrax.db"
    started = time.monotonic()
    proc, _ = _start(project)  # one full run: how long a run lasts, so kills land inside it
    proc.wait(timeout=600)
    length = time.monotonic() - started
    rng = random.Random(opts.seed)
    integrity = lost = mid_suite = 0
    orphans = _orphans(project)  # a run that ends normally leaves nothing behind either
    for _ in range(opts.kills):
        proc, lines = _start(project)
        time.sleep(rng.uniform(0.5, length))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        time.sleep(0.2)  # the reader thread takes the last lines
        orphans += _orphans(project)
        integrity += int(not _integrity_ok(db))
        lost += _lost(db, lines)
        mid_suite += int(bool(re.search(r"crash_work\s+i=\d+\s", "".join(lines))))
    name = f"SIGKILL x{opts.kills} ({length:.0f} s run)"
    return [Row(name, "integrity failures", integrity), Row(name, "lost finished cases", lost),
            Row(name, "orphan processes", orphans), Row(name, "kills after a case", mid_suite, None)]


# --- Concurrent writers ----------------------------------------------------------------------


def _writer(db: str, index: int, cases: int, barrier: threading.Barrier) -> tuple[int, int]:
    """One writer process: its own run, ``cases`` cases; returns (cases stored, lock errors)."""
    run_id = f"writer-{index:02d}"
    stored = errors = 0
    with Store.open(db) as store:
        barrier.wait()
        store.begin_run(RunInfo(run_id, "2026-01-01T00:00:00+00:00", RunStatus.RUNNING))
        for i in range(cases):
            try:
                store.add_case(run_id, CaseResult("writer", {"w": index, "i": i}, CaseStatus.OK))
                stored += 1
            except StoreError as exc:
                errors += int("locked" in str(exc) or "busy" in str(exc))
        store.finish_run(run_id, RunStatus.OK, "2026-01-01T00:01:00+00:00")
    return stored, errors


def concurrent_writers(opts: Options) -> list[Row]:
    """``opts.writers`` processes writing ``opts.cases`` cases each into one store at once."""
    db = opts.folder / "writers.db"
    Store.open(db).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(opts.writers)
    with ctx.Pool(opts.writers) as pool:
        results = pool.starmap(_writer, [(str(db), w, opts.cases, barrier) for w in range(opts.writers)])
    with Store.open(db) as store:
        rows = sum(len(store.load_run(f"writer-{w:02d}").cases) for w in range(opts.writers))
    reported = sum(stored for stored, _ in results)
    name = f"{opts.writers} writers x {opts.cases} cases"
    return [Row(name, "lost rows", reported - rows),  # acknowledged writes missing from the store
            Row(name, "lock errors", sum(errors for _, errors in results))]


def sigkill_slurm_jobs(opts: Options) -> list[Row]:
    """``opts.kills`` spooled SLURM sweep jobs, each SIGKILLed on its node at a random point
    (benchmarks/meta/_slurm_kill.py); skipped, and said so, where ``sinfo`` answers for no cluster."""
    if shutil.which("sinfo") is None or subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0:
        print("SLURM scenario skipped: no cluster answers (scripts/slurm-local.sh starts a one-node one).")
        return []
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _slurm_kill import run as slurm_kill

    counts = slurm_kill(opts.kills, seed=opts.seed)
    name = f"SLURM job SIGKILL x{counts['kills_sent']} ({counts['seconds']:.0f} s)"
    return [Row(name, "integrity failures", counts["integrity_failures"]),
            Row(name, "lost finished cases", counts["lost_finished_cases"]),
            Row(name, "orphan processes", counts["orphan_processes"]),
            Row(name, "jobs killed mid-run", counts["killed"], None)]


SCENARIOS: list[Callable[[Options], list[Row]]] = [
    sigkill_local_run,
    concurrent_writers,
    sigkill_slurm_jobs,
]
"""Every scenario, in the order printed; each returns its rows."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30, help="SIGKILLs of calibrax-run (at least 30 for the goal)")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--cases", type=int, default=50, help="cases per writer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        opts = Options(args.kills, args.writers, args.cases, args.seed, Path(tmp))
        rows = [row for scenario in SCENARIOS for row in scenario(opts)]
    width = max(len(r.scenario) for r in rows)
    print(f"{'scenario':<{width}}  {'figure':<20} {'value':>5}  goal")
    for r in rows:
        goal = "-" if r.goal is None else f"{r.goal}{'' if r.value <= r.goal else '  MISSED'}"
        print(f"{r.scenario:<{width}}  {r.figure:<20} {r.value:>5}  {goal}")


if __name__ == "__main__":
    main()
