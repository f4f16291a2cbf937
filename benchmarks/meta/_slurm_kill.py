"""SIGKILLs of spooled SLURM sweep jobs at random times: what a killed job leaves behind.

    .venv/bin/python benchmarks/meta/_slurm_kill.py --n 30     # a few minutes on 2 cores

Runs one ``calibrax-run -m hydra/launcher=slurm store=spool`` sweep of ``n`` jobs on the
cluster ``sinfo`` answers for (``scripts/slurm-local.sh`` starts one), each job a run of six
short cases. Once a job's run has started on the node, it is sent SIGKILL (``scancel
--signal=KILL``, every process of its step) at a random point: after a random number (0 to 5)
of its cases are stored, plus a random delay of 0 to ``--max-delay`` s; a job that ends first
counts as finished before its kill. When the sweep has loaded its runs:

- integrity failures: stores (the sweep's ``calibrax.db`` and every job's private store) that
  fail ``PRAGMA integrity_check``, plus killed jobs whose run does not read ``interrupted``;
- lost finished cases: cases a job's private store holds (committed before the kill) that the
  sweep's store lacks;
- orphan processes: processes still alive 5 s after the sweep whose working folder is the
  sweep's project (benchmark workers, job steps).

``run(n)`` returns these counts; crash_safety.py reports them beside its local-run scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from calibrax.core import RunStatus, canonical_params
from calibrax.runner.sweep import JOB_STORE, read_markers
from calibrax.storage import Store

BENCH = '''
import time

import calibrax


@calibrax.benchmark("ticks", params={"i": [0, 1, 2, 3, 4, 5], "rep": [0]})
def ticks(i: int, rep: int) -> calibrax.Workload:
    """A short case: a few milliseconds of sleep per call."""
    return calibrax.Workload(lambda: time.sleep(0.005))
'''
SLURM = ["hydra/launcher=slurm", "store=spool", "hydra.launcher.partition=debug", "hydra.launcher.gpus_per_node=0",
         "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", "hydra.launcher.array_parallelism=8",
         "profile=quick", "exporters=[]", "benchmarks=[ticks]"]


def _project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="calibrax-slurm-kill-"))
    (root / "conf" / "benchmark").mkdir(parents=True)
    (root / "killbench.py").write_text(BENCH)
    (root / "conf" / "benchmark" / "ticks.yaml").write_text("source: killbench\nparams:\n  i: [0, 1, 2, 3, 4, 5]\n"
                                                            "  rep: [0]\n")
    return root


def _finished_cases(job_db: Path) -> int:
    """Cases the job's private store holds now (read-only: the job is writing it)."""
    try:
        with sqlite3.connect(f"file:{job_db}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM cases").fetchone()[0])
    except sqlite3.Error:
        return 0


def _kill_at_random(root: Path, proc: subprocess.Popen[str], rng: random.Random, max_delay: float) -> dict[str, str]:
    """SIGKILL each job once its run has started, at a random point: after 0 to 5 of its six
    cases are stored, plus 0 to ``max_delay`` s; returns job -> outcome."""
    plan: dict[str, tuple[int, float, str]] = {}  # job -> (cases to wait for, extra delay, slurm id)
    due: dict[str, float] = {}
    outcome: dict[str, str] = {}
    while proc.poll() is None:
        sweeps = [p for p in (root / "multirun").glob("*/*") if p.is_dir()]
        for job, marker in read_markers(sweeps[0]) if sweeps else []:
            name, slurm_job = job.name, marker.get("slurm_job")
            if name not in plan and marker.get("run_id") and slurm_job:
                plan[name] = (rng.randint(0, 5), rng.uniform(0, max_delay), str(slurm_job))
            if name not in plan or name in outcome:
                continue
            if marker.get("state") == "done":
                outcome[name] = "finished first"
                continue
            if name not in due and _finished_cases(job / JOB_STORE) >= plan[name][0]:
                due[name] = time.monotonic() + plan[name][1]
            if name in due and time.monotonic() >= due[name]:
                subprocess.run(["scancel", "--signal=KILL", plan[name][2]], capture_output=True, timeout=30)
                outcome[name] = "killed"
        time.sleep(0.2)
    return outcome


def _intact(path: Path) -> bool:
    with sqlite3.connect(path) as db:
        return bool(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def _cases(store: Store, run_id: str) -> set[tuple[str, str]]:
    return {(c.benchmark, canonical_params(c.params)) for c in store.load_run(run_id).cases}


def _orphans(root: Path) -> int:
    alive = 0
    for pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(root):
                alive += 1
        except OSError:
            continue
    return alive


def analyse(root: Path, kills_sent: int = 0, sweep_line: str = "") -> dict[str, Any]:
    """Count what the killed jobs of the sweep under ``root`` left behind (see the module's doc).

    A job whose marker does not read ``done`` was killed; one that reads ``done`` finished first.
    """
    orphans = _orphans(root)
    [sweep_dir] = [p for p in (root / "multirun").glob("*/*") if p.is_dir()]
    markers = {job.name: marker for job, marker in read_markers(sweep_dir)}
    integrity, lost, kept = 0 if _intact(root / "calibrax.db") else 1, 0, 0
    with Store.open(root / "calibrax.db", create=False) as main:
        for job, marker in markers.items():
            job_db, run_id = sweep_dir / job / JOB_STORE, str(marker["run_id"])
            if not _intact(job_db):
                integrity += 1
                continue
            killed = marker.get("state") != "done"
            with Store.open(job_db, create=False) as private:
                finished = _cases(private, run_id)
            lost += len(finished - _cases(main, run_id))
            kept += len(finished) if killed else 0
            if killed and main.get_run(run_id).status is not RunStatus.INTERRUPTED:
                integrity += 1
    killed_jobs = sum(m.get("state") != "done" for m in markers.values())
    return {"jobs": len(markers), "kills_sent": kills_sent, "killed": killed_jobs,
            "finished_before_kill": len(markers) - killed_jobs, "cases_finished_in_killed_jobs": kept,
            "integrity_failures": integrity, "lost_finished_cases": lost, "orphan_processes": orphans,
            "sweep": sweep_line}


def run(n: int, seed: int = 0, max_delay: float = 2.0) -> dict[str, Any]:
    """Kill ``n`` spooled SLURM sweep jobs at random times; count integrity failures, lost
    finished cases and orphan processes (goal: 0, 0, 0).

    Example:
        >>> run(30)["lost_finished_cases"]
        0
    """
    if shutil.which("sinfo") is None:
        raise SystemExit("No SLURM here (sinfo is missing): run scripts/slurm-local.sh as root first.")
    root, rng, start = _project(), random.Random(seed), time.monotonic()
    sweep = [str(Path(sys.executable).parent / "calibrax-run"), "-m", *SLURM, f"params.ticks.rep=range(0,{n})"]
    env = {k: v for k, v in os.environ.items() if k != "CALIBRAX_DB"}
    proc = subprocess.Popen(sweep, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outcome = _kill_at_random(root, proc, rng, max_delay)
    tail = (proc.stdout.read() if proc.stdout else "").strip().splitlines()[-1:]
    time.sleep(5)
    counts = analyse(root, sum(v == "killed" for v in outcome.values()), tail[0] if tail else "")
    return {**counts, "seconds": round(time.monotonic() - start, 1), "project": str(root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="jobs to kill (one sweep of n jobs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=2.0, help="s after the chosen case, at most")
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.seed, args.max_delay), indent=2))


if __name__ == "__main__":
    main()
