"""Sweeps through sbatch on a real one-node SLURM cluster (started by scripts/slurm-local.sh,
which `make test` and .ci/run call first). Skipped only where that script cannot start one:
not Linux, not root, or no apt-get."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import QUICK, REPO, run_cli

from calibrax.core import CaseStatus, RunStatus
from calibrax.runner.sweep import read_markers
from calibrax.storage import Store

_CAN_START = sys.platform == "linux" and os.geteuid() == 0 and shutil.which("apt-get") is not None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _CAN_START, reason="a local SLURM cluster needs Linux, root and apt-get"),
]

SLURM = ["-m", "hydra/launcher=slurm", "store=spool", "hydra.launcher.partition=debug",
         "hydra.launcher.gpus_per_node=0", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", *QUICK]

HOLDS = '''
import os
import time

import calibrax


@calibrax.benchmark("holds")
def holds() -> calibrax.Workload:
    """Waits while hold.flag exists in the working folder: a job to cancel while it runs."""

    def work() -> None:
        while os.path.exists("hold.flag"):
            time.sleep(0.2)

    return calibrax.Workload(work)


@calibrax.benchmark("naps")
def naps() -> calibrax.Workload:
    """Waits while hold.flag exists too: a job that outlives its time limit."""

    def work() -> None:
        while os.path.exists("hold.flag"):
            time.sleep(0.2)

    return calibrax.Workload(work)
'''


@pytest.fixture(scope="module")
def cluster() -> None:
    """The cluster `make test` started; its absence is a failure, not a skip."""
    assert shutil.which("sinfo"), "sinfo is missing: run scripts/slurm-local.sh first (make test and .ci/run do)."
    state = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=30)
    assert state.stdout.split() and state.stdout.split()[0] in ("idle", "mixed", "allocated"), (
        f"the SLURM node is not up (sinfo: {state.stdout.strip()!r} {state.stderr.strip()!r}); "
        "run scripts/slurm-local.sh")


@pytest.fixture
def slurmproj(userproj: Path, cluster: None) -> Path:
    (userproj / "slurmbench.py").write_text(HOLDS)
    for name in ("holds", "naps"):
        (userproj / "conf" / "benchmark" / f"{name}.yaml").write_text("source: slurmbench\nparams: {}\n")
    return userproj


def _runs(folder: Path) -> dict[str, list]:  # type: ignore[type-arg]
    with Store.open(folder / "calibrax.db") as store:
        runs: dict[str, list] = {}  # type: ignore[type-arg]
        for info in store.list_runs():
            job = next(o for o in info.overrides if o.startswith("benchmarks="))
            runs.setdefault(job, []).append(store.load_run(info.id))
    return runs


def _sweep_dir(folder: Path) -> Path:
    [sweep] = [p for p in (folder / "multirun").glob("*/*") if p.is_dir()]
    return sweep


def _wait_for_run(folder: Path, job: str, proc: subprocess.Popen[str], timeout: float = 120) -> dict:  # type: ignore[type-arg]
    """The marker of job ``job`` once its run has started on the node."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before its job could be cancelled"
        sweeps = [p for p in (folder / "multirun").glob("*/*") if p.is_dir()]
        for path, marker in read_markers(sweeps[0]) if sweeps else []:
            if path.name == job and marker.get("run_id") and marker.get("slurm_job"):
                return marker
        time.sleep(0.5)
    raise AssertionError(f"job {job} did not start its run within {timeout} s")


def test_sweep_on_slurm_records_ok_failed_cancelled_and_timed_out_jobs_and_resume_completes(slurmproj: Path) -> None:
    """One sweep, four jobs: ok, a failing benchmark, a job cancelled while it runs, and one that
    outlives hydra.launcher.timeout_min; then sweep.resume=true completes the last two on SLURM."""
    (slurmproj / "hold.flag").touch()
    args = [*SLURM, "benchmarks=[steady],[raises],[holds],[naps]", "hydra.launcher.timeout_min=1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "0"}
    env.pop("CALIBRAX_DB", None)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "calibrax-run"), *args], cwd=slurmproj, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        marker = _wait_for_run(slurmproj, "2", proc)
        subprocess.run(["scancel", marker["slurm_job"]], check=True, timeout=30)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err
    assert "job(s) 2 (SLURM: CANCELLED) did not finish" in out, out + err  # job 3 ended itself, in time
    assert (out + err).count("Bypassing sacct error") <= 1, err
    assert (out + err).count("following the jobs with scontrol") == 1, err

    runs = _runs(slurmproj)
    [steady], [raises], [holds], [naps] = (runs[f"benchmarks=[{b}]"] for b in ("steady", "raises", "holds", "naps"))
    sweep_id = steady.run.sweep_id
    assert sweep_id and {raises.run.sweep_id, holds.run.sweep_id, naps.run.sweep_id} == {sweep_id}
    assert steady.run.status is RunStatus.OK and [c.status for c in steady.cases] == [CaseStatus.OK]
    assert raises.run.status is RunStatus.FAILED
    assert raises.cases[0].status is CaseStatus.ERROR and "broken on purpose" in str(raises.cases[0].error)
    assert holds.run.status is RunStatus.INTERRUPTED
    assert naps.run.status is RunStatus.FAILED
    assert [c.status for c in naps.cases] == [CaseStatus.TIMEOUT] and "timed out" in str(naps.cases[0].error)
    sweep = _sweep_dir(slurmproj)
    jobs = {path.name: m for path, m in read_markers(sweep)}
    assert all(m.get("slurm_job") for m in jobs.values())  # every job ran through sbatch
    assert {p.name for p in (sweep / ".submitit").iterdir() if p.is_dir()} >= {m["slurm_job"] for m in jobs.values()}
    naps_log = (sweep / ".submitit" / jobs["3"]["slurm_job"] / f"{jobs['3']['slurm_job']}_0_log.out").read_text()
    assert "time limit (hydra.launcher.timeout_min=1)" in naps_log, naps_log

    (slurmproj / "hold.flag").unlink()
    again = run_cli("calibrax-run", *args, "sweep.resume=true", cwd=slurmproj, timeout=180)
    assert again.returncode == 3, again.stdout + again.stderr  # the raising job fails again
    after = _runs(slurmproj)
    assert len(after["benchmarks=[steady]"]) == 1  # it had an ok run: not re-run
    assert sorted(r.run.status.value for r in after["benchmarks=[holds]"]) == ["interrupted", "ok"]
    assert sorted(r.run.status.value for r in after["benchmarks=[naps]"]) == ["failed", "ok"]
    assert {r.run.sweep_id for rs in after.values() for r in rs} == {sweep_id}


def test_slurm_local_script_changes_nothing_when_the_cluster_is_up(cluster: None) -> None:
    conf = Path("/etc/slurm/slurm.conf").read_bytes()
    done = subprocess.run([str(REPO / "scripts" / "slurm-local.sh")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "installing" not in done.stderr and "wrote" not in done.stderr, done.stderr
    assert Path("/etc/slurm/slurm.conf").read_bytes() == conf
