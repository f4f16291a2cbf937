"""A small store with every thing the dashboard draws: two hardware fingerprints, params that do
not all combine, a level step, an excluded spike, an accepted shift and a note."""

from __future__ import annotations

from pathlib import Path

from factories import hardware, time_case

from calibrax.core import GitInfo, RunInfo, RunStatus
from calibrax.storage import Store

RUNS = 40
STEP_AT = 12  # matmul n=64 is 20% slower from this run on
SPIKE_AT = 30  # matmul n=128 is 3x slower in this run only: excluded
ACCEPT_AT = 25  # conv is 30% slower from this run on: accepted
HW_A, HW_B = hardware(cpu_model="CPU A"), hardware(cpu_model="CPU B")


def run_id(i: int) -> str:
    return f"run-{i:02d}"


def commit(i: int) -> str:
    return f"{i:02d}" + "c0ffee" * 6 + "00"


def build(path: Path) -> Store:
    """The store, with its annotations made through the Store as the CLI makes them."""
    store = Store.open(path)
    for i in range(RUNS):
        hw = HW_B if i % 4 == 3 else HW_A
        info = RunInfo(run_id(i), f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00", RunStatus.RUNNING,
                       GitInfo(commit(i), "main", False), hw)
        store.begin_run(info)
        store.add_case(run_id(i), time_case("matmul", {"n": 64, "dtype": "float32"},
                                            1e-3 * (1.2 if i >= STEP_AT else 1.0), seed=i))
        store.add_case(run_id(i), time_case("matmul", {"n": 128, "dtype": "float32"},
                                            4e-3 * (3.0 if i == SPIKE_AT else 1.0), seed=100 + i))
        if hw is HW_A:
            store.add_case(run_id(i), time_case("matmul", {"n": 128, "dtype": "bfloat16"}, 2e-3, seed=200 + i))
        store.add_case(run_id(i), time_case("conv", {"k": 3}, 5e-4 * (1.3 if i >= ACCEPT_AT else 1.0), seed=300 + i))
        store.finish_run(run_id(i), RunStatus.OK, info.started_at)
    store.exclude(run_id(SPIKE_AT), "noisy neighbour", benchmark="matmul", params={"n": 128, "dtype": "float32"})
    store.accept(run_id(ACCEPT_AT), "conv switched to the direct algorithm on purpose")
    store.annotate(run_id(10), "runner image updated")
    return store
