"""Many processes writing one store at once: every row lands, no lock error escapes."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, MeasureResult, RunInfo, RunStatus
from calibrax.statistics import summarize
from calibrax.storage import Store

pytestmark = pytest.mark.slow

PROCESSES, CASES, SAMPLES = 8, 50, 100


def write_run(path: str, worker: int, repeat: int) -> str:
    run_id = f"r{repeat}-w{worker}"
    with Store.open(path, busy_timeout=60) as store:
        store.begin_run(RunInfo(run_id, f"2026-11-26T00:00:{worker:02d}+00:00", RunStatus.RUNNING, sweep_id=f"s{repeat}"))
        for i in range(CASES):
            samples = tuple(1e-3 + 1e-6 * ((i * 7 + j) % 13) for j in range(SAMPLES))
            m = MeasureResult(STANDARD_MEASURES["time"], samples, summarize(samples), {"rounds": SAMPLES})
            store.add_case(run_id, CaseResult("bench", {"i": i, "w": worker}, CaseStatus.OK, {"time": m}))
        store.finish_run(run_id, RunStatus.OK, "2026-11-26T00:01:00+00:00")
    return run_id


@pytest.mark.parametrize("repeat", range(2))
def test_eight_writers_at_once(tmp_path: Path, repeat: int) -> None:
    path = str(tmp_path / "shared.db")
    Store.open(path).close()
    with mp.get_context("spawn").Pool(PROCESSES) as pool:
        ids = pool.starmap(write_run, [(path, w, repeat) for w in range(PROCESSES)])
    with Store.open(path) as store:
        assert sorted(r.id for r in store.list_runs(sweep_id=f"s{repeat}")) == sorted(ids)
        for run_id in ids:
            record = store.load_run(run_id)
            assert record.run.status is RunStatus.OK and len(record.cases) == CASES
            assert all(len(c.measures["time"].samples) == SAMPLES for c in record.cases)
