"""Following SLURM jobs from the submitting machine (Hydra's submitit launcher).

submitit asks ``sacct`` for the state of its jobs. On a cluster without accounting (a small
cluster, the one-node cluster of ``scripts/slurm-local.sh``) every call fails: submitit logs a
``Bypassing sacct error`` warning on every poll, and a job that ends without writing its result
(cancelled with ``scancel``, killed at its time limit, its node lost) is never seen to end, so
the sweep waits forever. :func:`follow_slurm_jobs` installs a job watcher of calibrax's own
(:class:`SlurmJobWatcher`: the calls submitit's jobs make on a watcher, none of submitit's
internals) that asks ``sacct`` while it answers and falls back to ``scontrol show job`` (which knows every job for SLURM's
``MinJobAge``), says once that it does, and polls every few seconds instead of every ten
minutes; and a logging filter that lets submitit's sacct warning through once.

When a job fails, Hydra's submitit launcher stops waiting at that job; :func:`wait_for_jobs`
waits for the others, so the sweep's results are loaded only when every job has ended.

submitit gives a job that ended without its result file 15 s for the file to appear (a network
file system may show it late); jobs of the ``local`` launcher write to a local folder, so
:func:`local_jobs_report_at_once` takes that wait from them (a killed local job was reported
15 s after it died).
"""

from __future__ import annotations

import logging
import re
import subprocess
import time

__all__ = ["POLL_S", "SacctWarningOnce", "SlurmJobWatcher", "follow_slurm_jobs", "job_states",
           "local_jobs_report_at_once", "wait_for_jobs"]

log = logging.getLogger("calibrax")

POLL_S = 5.0
"""Seconds at most between two looks at the cluster's job states (submitit's default is 600)."""

_SACCT_WARNING = "Bypassing sacct error"
_ENDED = "ENDED"  # a job neither squeue nor scontrol still knows: it ended long ago


class SacctWarningOnce(logging.Filter):
    """Let submitit's ``Bypassing sacct error`` warning through the first time only.

    Example:
        >>> logging.getLogger("submitit").addFilter(SacctWarningOnce())
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if _SACCT_WARNING not in record.getMessage():
            return True
        self.seen += 1
        return self.seen == 1


_ACTIVE = frozenset({"READY", "PENDING", "RUNNING", "UNKNOWN", "REQUEUED", "COMPLETING", "PREEMPTED", "CONFIGURING",
                     "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING"})


def _sacct_states(job_ids: set[str]) -> dict[str, dict[str, str]] | None:
    """``{"12_0": {"JobID", "State"}}`` from ``sacct``, or None when sacct cannot answer here."""
    command = ["sacct", "-o", "JobID,State", "--parsable2", "--noheader", "-j", ",".join(sorted(job_ids))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    states: dict[str, dict[str, str]] = {}
    for line in done.stdout.splitlines():
        job, _, state = line.partition("|")
        if not job or "." in job:  # a job step (12.batch), not a job
            continue
        word = state.split(" ")[0] or "UNKNOWN"  # "CANCELLED by 0"
        for key in _expand(job):
            states[key] = {"JobID": key, "State": word}
    return states


def _expand(job: str) -> list[str]:
    """``12_[0-2,5]`` -> ``12_0 12_1 12_2 12_5`` (pending array tasks); other ids as they are."""
    found = re.fullmatch(r"(\d+)_\[([\d,\-]+)(?:%\d+)?\]", job)
    if found is None:
        return [job]
    out = []
    for part in found.group(2).split(","):
        low, _, high = part.partition("-")
        out += [f"{found.group(1)}_{i}" for i in range(int(low), int(high or low) + 1)]
    return out


def _scontrol_states(jobs: set[str]) -> dict[str, dict[str, str]]:
    """``{"ARRAYID_TASK" or "JOBID": {"JobID", "State"}}`` for the given jobs (and their arrays)."""
    states: dict[str, dict[str, str]] = {}
    for job_id in sorted({job.split("_")[0] for job in jobs}):
        out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            if "Invalid job id" in out.stderr:  # purged after MinJobAge: long over
                for job in jobs:
                    if job.split("_")[0] == job_id:
                        states[job] = {"JobID": job, "State": _ENDED}
            continue
        for line in out.stdout.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            key = fields.get("JobId", job_id)
            if fields.get("ArrayTaskId") not in (None, "N/A"):
                key = f"{fields['ArrayJobId']}_{fields['ArrayTaskId']}"
            states[key] = {"JobID": key, "State": fields.get("JobState", "UNKNOWN")}
    return states


class SlurmJobWatcher:
    """Follows the SLURM jobs of this process for submitit, asking ``sacct`` while it answers and
    ``scontrol show job`` when it cannot, at most every ``delay_s`` seconds.

    It implements the watcher protocol that submitit's jobs call (``register_job``, ``get_info``,
    ``get_state``, ``is_done``, ``update``, ``clear``, ``num_calls``) with state of its own, so it
    does not depend on submitit's watcher internals.

    Example:
        >>> watcher = SlurmJobWatcher(delay_s=2)
        >>> watcher.register_job("12_0")
        >>> watcher.get_state("12_0", mode="cache")
        'UNKNOWN'
    """

    def __init__(self, delay_s: float = POLL_S) -> None:
        self.delay_s = delay_s
        self.registered: set[str] = set()
        self.finished: set[str] = set()
        self.info: dict[str, dict[str, str]] = {}
        self.sacct_works: bool | None = None
        self._calls = 0
        self._last = 0.0

    @property
    def num_calls(self) -> int:
        """How many times the cluster was asked."""
        return self._calls

    def register_job(self, job_id: str) -> None:
        self.registered.add(str(job_id))
        self._last = 0.0  # ask soon after a submission

    def clear(self) -> None:
        self.registered.clear()
        self.finished.clear()
        self.info.clear()

    def get_info(self, job_id: str, mode: str = "standard") -> dict[str, str]:
        if job_id not in self.finished and (mode == "force" or (
                mode == "standard" and time.monotonic() - self._last >= self.delay_s)):
            self.update()
        return self.info.get(job_id, {})

    def get_state(self, job_id: str, mode: str = "standard") -> str:
        return self.get_info(job_id, mode=mode).get("State") or "UNKNOWN"

    def is_done(self, job_id: str, mode: str = "standard") -> bool:
        return self.get_state(job_id, mode=mode).upper() not in _ACTIVE

    def update(self) -> None:
        """Ask the cluster for the state of every registered job that has not ended."""
        todo = self.registered - self.finished
        if not todo:
            return
        self._calls += 1
        self.info.update(self._states(todo))
        self._last = time.monotonic()
        self.finished |= {job for job in todo if self.is_done(job, mode="cache")}

    def _states(self, todo: set[str]) -> dict[str, dict[str, str]]:
        if self.sacct_works is not False:
            states = _sacct_states(todo)
            if states is not None:
                self.sacct_works = True
                return states
            if self.sacct_works is None:
                log.warning("sacct cannot report job states here; following the jobs with scontrol.")
            self.sacct_works = False
        return _scontrol_states(todo)


_FILTER = SacctWarningOnce()


def follow_slurm_jobs(poll_s: float = POLL_S) -> None:
    """Follow submitit's SLURM jobs with the sacct-or-scontrol watcher, polling every ``poll_s``.

    Also keeps submitit's repeated ``Bypassing sacct error`` warning to its first occurrence.
    Calling it again changes nothing but the poll interval.

    Example:
        >>> follow_slurm_jobs(poll_s=2.0)  # before Hydra's submitit launcher submits the jobs
    """
    from submitit.slurm.slurm import SlurmJob

    submitit_log = logging.getLogger("submitit")
    if _FILTER not in submitit_log.filters:
        submitit_log.addFilter(_FILTER)
    watcher = SlurmJob.watcher if isinstance(SlurmJob.watcher, SlurmJobWatcher) else SlurmJobWatcher()
    watcher.delay_s = max(poll_s, 1.0)
    SlurmJob.watcher = watcher  # type: ignore[assignment]  # submitit makes only the watcher protocol's calls


def local_jobs_report_at_once() -> None:
    """A job of Hydra's submitit ``local`` launcher that ended without its result is reported
    when its process has ended, not 15 s later (submitit's wait for a slow network file system).

    Example:
        >>> local_jobs_report_at_once()  # before the local launcher collects its jobs' results
    """
    from submitit.local.local import LocalJob

    if hasattr(LocalJob, "_results_timeout_s"):  # submitit's class attribute for that wait (submitit 1.5)
        LocalJob._results_timeout_s = 0


def _jobs(registered: set[str]) -> list[str]:
    """The jobs among submitit's registered ids: an array's own id (``12`` beside ``12_0``) is no job."""
    arrays = {job.split("_")[0] for job in registered if "_" in job}
    return sorted(job for job in registered if job not in arrays)


def job_states() -> dict[str, str]:
    """The last known SLURM state of every job submitted from this process (``{"12_0": "TIMEOUT"}``)."""
    from submitit.slurm.slurm import SlurmJob

    watcher = SlurmJob.watcher
    if not isinstance(watcher, SlurmJobWatcher):
        return {}
    return {job: watcher.get_state(job, mode="cache") for job in _jobs(watcher.registered)}


def wait_for_jobs(poll_s: float = POLL_S) -> dict[str, str]:
    """Wait until every SLURM job submitted from this process has ended; returns their states.

    Hydra's submitit launcher raises at the first failed job while later ones may still run;
    the sweep's results must be loaded only once all of them have ended.

    Example:
        >>> states = wait_for_jobs()  # {"12_0": "COMPLETED", "12_1": "CANCELLED"}
    """
    from submitit.slurm.slurm import SlurmJob

    watcher = SlurmJob.watcher
    if not isinstance(watcher, SlurmJobWatcher):
        return {}
    while True:
        watcher.update()
        if all(watcher.is_done(job, mode="cache") for job in _jobs(watcher.registered)):
            return job_states()
        time.sleep(poll_s)
