"""Following SLURM jobs from the submitting machine (Hydra's submitit launcher).

submitit asks ``sacct`` for the state of its jobs. On a cluster without accounting (a small
cluster, the one-node cluster of ``scripts/slurm-local.sh``) every call fails: submitit logs a
``Bypassing sacct error`` warning on every poll, and a job that ends without writing its result
(cancelled with ``scancel``, killed at its time limit, its node lost) is never seen to end, so
the sweep waits forever. :func:`follow_slurm_jobs` installs a job watcher that asks ``sacct``
while it answers and falls back to ``scontrol show job`` (which knows every job for SLURM's
``MinJobAge``), says once that it does, and polls every few seconds instead of every ten
minutes; and a logging filter that lets submitit's sacct warning through once.

When a job fails, Hydra's submitit launcher stops waiting at that job; :func:`wait_for_jobs`
waits for the others, so the sweep's results are loaded only when every job has ended.
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess
import time
from typing import Any

__all__ = ["POLL_S", "SacctWarningOnce", "follow_slurm_jobs", "job_states", "wait_for_jobs"]

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


def _scontrol_states(array_ids: set[str]) -> dict[str, dict[str, str]]:
    """``{"ARRAYID_TASK" or "JOBID": {"JobID", "State"}}`` for the given job (or array) ids."""
    states: dict[str, dict[str, str]] = {}
    for job_id in sorted(array_ids):
        out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            if "Invalid job id" in out.stderr:  # purged after MinJobAge: long over
                states[job_id] = {"JobID": job_id, "State": _ENDED}
            continue
        for line in out.stdout.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            key = fields.get("JobId", job_id)
            if fields.get("ArrayTaskId") not in (None, "N/A"):
                key = f"{fields['ArrayJobId']}_{fields['ArrayTaskId']}"
            states[key] = {"JobID": key, "State": fields.get("JobState", "UNKNOWN")}
    return states


@functools.cache
def _watcher_class() -> type[Any]:
    from submitit.slurm.slurm import SlurmInfoWatcher

    class ScontrolFallbackWatcher(SlurmInfoWatcher):
        """submitit's SLURM watcher, with ``scontrol`` when ``sacct`` cannot answer."""

        sacct_works: bool | None = None

        def update(self) -> None:
            command = self._make_command()
            if command is None:
                return
            self._num_calls += 1
            self._info_dict.update(self._states(command))
            self._last_status_check = time.time()
            for job_id in self._registered - self._finished:
                if self.is_done(job_id, mode="cache"):
                    self._finished.add(job_id)

        def _states(self, command: list[str]) -> dict[str, dict[str, str]]:
            if self.sacct_works is not False:
                done = subprocess.run(command, capture_output=True, timeout=60)
                if done.returncode == 0:
                    self.sacct_works = True
                    return dict(self.read_info(done.stdout))
                if self.sacct_works is None:
                    reason = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
                    log.warning("sacct cannot report job states here (%s); following the jobs with scontrol.",
                                reason)
                self.sacct_works = False
            return _scontrol_states({x.split("_")[0] for x in self._registered - self._finished})

    return ScontrolFallbackWatcher


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
    watcher_class = _watcher_class()
    if not isinstance(SlurmJob.watcher, watcher_class):
        SlurmJob.watcher = watcher_class(delay_s=int(max(poll_s, 1)))
    SlurmJob.watcher._delay_s = int(max(poll_s, 1))


def _jobs(registered: set[str]) -> list[str]:
    """The jobs among submitit's registered ids: an array's own id (``12`` beside ``12_0``) is no job."""
    arrays = {job.split("_")[0] for job in registered if "_" in job}
    return sorted(job for job in registered if job not in arrays)


def job_states() -> dict[str, str]:
    """The last known SLURM state of every job submitted from this process (``{"12_0": "TIMEOUT"}``)."""
    from submitit.slurm.slurm import SlurmJob

    watcher = SlurmJob.watcher
    return {job: str(watcher._info_dict.get(job, {}).get("State", "UNKNOWN")) for job in _jobs(watcher._registered)}


def wait_for_jobs(poll_s: float = POLL_S) -> dict[str, str]:
    """Wait until every SLURM job submitted from this process has ended; returns their states.

    Hydra's submitit launcher raises at the first failed job while later ones may still run;
    the sweep's results must be loaded only once all of them have ended.

    Example:
        >>> states = wait_for_jobs()  # {"12_0": "COMPLETED", "12_1": "CANCELLED"}
    """
    from submitit.slurm.slurm import SlurmJob

    watcher = SlurmJob.watcher
    while True:
        watcher.update()
        if all(watcher.is_done(job, mode="cache") for job in _jobs(watcher._registered)):
            return job_states()
        time.sleep(poll_s)
