"""Following SLURM jobs without accounting: submitit's sacct warning said once, array ids that
are no job, and cases bounded by the job's time limit (the cluster itself: tests/e2e/test_slurm.py)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from submitit.slurm.slurm import SlurmInfoWatcher, SlurmJob

from calibrax.runner import app, load_config
from calibrax.runner.job import TIME_LIMIT_MARGIN_S, _within_time_limit
from calibrax.runner.slurm import _FILTER, SlurmJobWatcher, _expand, _jobs, follow_slurm_jobs
from calibrax.runner.sweep import write_marker


@pytest.fixture
def followed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(SlurmJob, "watcher", SlurmJob.watcher)  # restored after the test
    follow_slurm_jobs(poll_s=2)
    yield
    logging.getLogger("submitit").removeFilter(_FILTER)
    _FILTER.seen = 0


def test_submitits_sacct_warning_is_said_once(followed: None, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # sacct cannot run: submitit warns on every poll
    watcher = SlurmInfoWatcher(delay_s=1)
    watcher.register_job("424242_0")
    with caplog.at_level(logging.WARNING, logger="submitit"):
        for _ in range(3):
            watcher.update()
    assert watcher.num_calls == 3
    assert sum("Bypassing sacct error" in r.getMessage() for r in caplog.records) == 1


def test_the_followed_jobs_poll_every_few_seconds(followed: None) -> None:
    assert isinstance(SlurmJob.watcher, SlurmJobWatcher)
    assert SlurmJob.watcher.delay_s == 2
    follow_slurm_jobs(poll_s=0.2)  # again: the same watcher, at least a second apart
    assert SlurmJob.watcher.delay_s == 1.0


def test_pending_array_tasks_are_expanded() -> None:
    assert _expand("12_[0-2,5]") == ["12_0", "12_1", "12_2", "12_5"]
    assert _expand("12_[3%2]") == ["12_3"]
    assert _expand("12_4") == ["12_4"]
    assert _expand("13") == ["13"]


def test_a_watcher_with_nothing_registered_asks_nobody() -> None:
    watcher = SlurmJobWatcher(delay_s=1)
    watcher.update()
    assert watcher.num_calls == 0


_CLUSTER = shutil.which("scontrol") is not None and subprocess.run(
    ["scontrol", "ping"], capture_output=True, text=True).returncode == 0


@pytest.mark.skipif(not _CLUSTER, reason="no SLURM controller answers here (make test starts one)")
def test_a_job_the_cluster_does_not_know_has_ended_and_is_asked_about_once_per_delay() -> None:
    watcher = SlurmJobWatcher(delay_s=60)
    watcher.register_job("999999_0")  # never submitted: scontrol says "Invalid job id"
    assert watcher.get_state("999999_0", mode="cache") == "UNKNOWN"
    assert watcher.is_done("999999_0")  # "standard": asks once
    assert watcher.num_calls == 1
    assert watcher.get_state("999999_0") in ("ENDED", "COMPLETED", "CANCELLED", "FAILED")
    assert watcher.num_calls == 1  # ended jobs are not asked about again
    watcher.clear()
    assert watcher.get_info("999999_0", mode="cache") == {}


def test_an_arrays_own_id_is_no_job() -> None:
    assert _jobs({"12", "12_0", "12_1", "13"}) == ["12_0", "12_1", "13"]


@pytest.mark.parametrize("limit_s, capped", [(3600.0, False), (60.0, True), (5.0, True)])
def test_cases_are_bounded_by_the_jobs_time_limit(limit_s: float, capped: bool) -> None:
    cfg = load_config({"profile": {"case_timeout": 300.0}})
    out = _within_time_limit(cfg, limit_s)
    if not capped:
        assert out.profile.case_timeout == 300.0
    else:
        assert 1.0 <= out.profile.case_timeout <= max(limit_s - TIME_LIMIT_MARGIN_S, 1.0)
        assert cfg.profile.case_timeout == 300.0  # the config given is left as it was


def test_what_slurm_says_is_left_bounds_the_cases() -> None:
    cfg = load_config({"profile": {"case_timeout": 300.0}})
    out = _within_time_limit(cfg, 3600.0, left_s=50.0)  # the job started long ago: 50 s are left
    assert out.profile.case_timeout == 50.0 - TIME_LIMIT_MARGIN_S


def test_slurm_jobs_without_a_marker_are_named_as_never_started(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write_marker(tmp_path / "0", state="done", slurm_job="5_0")
    write_marker(tmp_path / "1", state="started", slurm_job="5_1")
    monkeypatch.setattr(app._STATE, "sweep_dir", tmp_path)
    states = {"5_0": "COMPLETED", "5_1": "CANCELLED", "5_2": "FAILED"}
    assert app._never_started(states) == ["5_2 (FAILED)"]
    assert app._with_slurm_state(("1",), states) == ["1 (SLURM: CANCELLED)"]
    assert app._never_started({}) == []


def test_local_jobs_report_a_missing_result_at_once_and_slurm_jobs_still_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    import inspect

    from submitit.core.core import Job
    from submitit.local.local import LocalJob

    from calibrax.runner.slurm import local_jobs_report_at_once

    # the wait submitit gives a job's result file is this class attribute, read where results are collected
    assert "self._results_timeout_s" in inspect.getsource(Job._get_outcome_and_result)
    monkeypatch.setattr(LocalJob, "_results_timeout_s", LocalJob._results_timeout_s)  # restored after the test
    local_jobs_report_at_once()
    assert LocalJob._results_timeout_s == 0
    assert SlurmJob._results_timeout_s == Job._results_timeout_s > 0  # a cluster's shared folder may show it late
