"""Per-job progress of a ``-m`` sweep: the sweep's size from its overrides, and one line per finished job."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from calibrax.runner.progress import SweepProgress
from calibrax.runner.sweep import job_exit_code, sweep_size, write_marker


@pytest.mark.parametrize(("overrides", "params", "size"), [
    (["params.mm.n=64,128,256", "profile=quick"], None, 3),
    (["params.mm.n=64,128", "seed=range(0,3)", "+x=choice(a,b)"], None, 12),
    (["profile=quick"], None, 1),
    (["params.mm.n=8,16"], {"params.mm.n": "1,2,3", "seed": "1,2"}, 4),  # the command line wins
    (["lr=interval(0,1)"], None, None),  # an optimizing sweeper decides how many
    (["params.mm.n=(64"], None, None),  # not parseable: no total, never a crash
])
def test_the_sweeps_size_is_the_product_of_its_sweeps(overrides: list[str], params: dict[str, str] | None,
                                                      size: int | None) -> None:
    assert sweep_size(overrides, params) == size


def test_each_finished_job_gets_a_counted_line_with_its_time_and_what_is_left(
        caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter([0.0, 0.0, 4.2, 4.2, 10.0, 10.0, 75.0])
    progress = SweepProgress(3, clock=ticks.__next__)
    with caplog.at_level(logging.INFO, logger="calibrax"):
        progress.job_started()
        first = progress.job_ended(0, ["params.n=8", "sweep.id=s1"], 0)
        progress.job_started()
        second = progress.job_ended(1, ["params.n=16"], 1)
        progress.job_started()
        third = progress.job_ended(2, [], None)
    assert first == "[1/3] job 0 (params.n=8) done in 4.2 s, exit 0; 4.2 s elapsed, about 8 s left"
    assert second == "[2/3] job 1 (params.n=16) done in 5.8 s, exit 1; 10.0 s elapsed, about 5 s left"
    assert third == "[3/3] job 2 (no overrides) did not finish (1 min 05 s); 1 min 15 s elapsed"
    assert [r.getMessage() for r in caplog.records] == [first, second, third]


def test_without_a_known_size_the_lines_count_without_a_total() -> None:
    progress = SweepProgress(None, clock=iter([0.0, 1.0, 3.0]).__next__)
    progress.job_started()
    assert progress.job_ended(4, ["lr=0.1"], 0) == "[1] job 4 (lr=0.1) done in 2.0 s, exit 0; 3.0 s elapsed"


def test_a_jobs_exit_code_is_read_from_its_marker_once_it_is_done(tmp_path: Path) -> None:
    assert job_exit_code(tmp_path / "0") is None
    write_marker(tmp_path / "0", state="started", num=0)
    assert job_exit_code(tmp_path / "0") is None
    write_marker(tmp_path / "0", state="done", exit_code=3)
    assert job_exit_code(tmp_path / "0") == 3
    (tmp_path / "0" / "calibrax-job.json").write_text("{not json")
    assert job_exit_code(tmp_path / "0") is None
