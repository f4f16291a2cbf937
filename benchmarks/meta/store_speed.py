"""How fast the SQLite store is at the sizes a long-lived project reaches.

Prints three figures against their goals:

- insert 10^6 samples (10,000 cases x 100 samples, one transaction per case): under 5 s;
- read one benchmark's history over 10^4 runs: under 50 ms;
- open a store of 10^4 runs (validation, migration check, interrupted-run scan): under 200 ms.

Run: ``.venv/bin/python benchmarks/meta/store_speed.py`` (building the 10^4-run store takes a
minute; it is not timed).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from calibrax.core import STANDARD_MEASURES, CaseResult, CaseStatus, MeasureResult, RunInfo, RunStatus
from calibrax.statistics import summarize
from calibrax.storage import Store


def _case(name: str, params: dict, samples: tuple[float, ...]) -> CaseResult:
    m = MeasureResult(STANDARD_MEASURES["time"], samples, summarize(samples), {"rounds": len(samples)})
    return CaseResult(name, params, CaseStatus.OK, {"time": m})


def insert_samples(folder: Path) -> float:
    samples = tuple(1e-3 * (1 + 0.01 * (i % 17)) for i in range(100))
    cases = [_case("bench", {"i": i}, samples) for i in range(10_000)]
    with Store.open(folder / "insert.db") as store:
        store.begin_run(RunInfo("big", "2026-01-01T00:00:00+00:00", RunStatus.RUNNING))
        t0 = time.perf_counter()
        for case in cases:
            store.add_case("big", case)
        elapsed = time.perf_counter() - t0
        store.finish_run("big", RunStatus.OK, "2026-01-01T00:10:00+00:00")
    return elapsed


def build_history(path: Path, runs: int) -> None:
    samples = tuple(1e-3 * (1 + 0.01 * (i % 7)) for i in range(20))
    with Store.open(path) as store:
        for r in range(runs):
            run_id = f"r{r:05d}"
            store.begin_run(RunInfo(run_id, f"2026-01-01T00:00:00.{r:06d}+00:00", RunStatus.RUNNING))
            for n in (256, 512):
                store.add_case(run_id, _case("matmul", {"n": n}, samples))
            store.add_case(run_id, _case("softmax", {"cols": 1024}, samples))
            store.finish_run(run_id, RunStatus.OK, "2026-01-02T00:00:00+00:00")


def best_of(fn, repeats: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        insert = insert_samples(folder)
        print(f"insert 10^6 samples (10,000 cases x 100)   {insert:8.3f} s    goal < 5 s     {'ok' if insert < 5 else 'MISSED'}")
        path = folder / "history.db"
        build_history(path, 10_000)
        with Store.open(path) as store:
            rows = store.history("matmul", params={"n": 512})
            assert len(rows) == 10_000
            read = best_of(lambda: store.history("matmul", params={"n": 512}))
        print(f"history of one case over 10^4 runs         {read * 1e3:8.1f} ms   goal < 50 ms   {'ok' if read < 0.05 else 'MISSED'}")
        opened = best_of(lambda: Store.open(path).close())
        print(f"open a store of 10^4 runs                  {opened * 1e3:8.1f} ms   goal < 200 ms  {'ok' if opened < 0.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
