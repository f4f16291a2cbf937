"""Benchmark-level results (complexity fits) have their own table (schema v6); a version 5
store, which kept them in the meta of a benchmark's last case, migrates them there."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from factories import add_run

from calibrax.core import BenchmarkResult, NotFoundError
from calibrax.core.result import record_from_dict
from calibrax.storage import SCHEMA_VERSION, Store
from tests.storage.test_store_file import schema_of

FIT = {"param": "n", "fixed": {}, "sizes": [8.0, 16.0, 32.0], "best": {"name": "O(n^2)"}}


def test_benchmark_results_are_stored_with_the_run_and_come_back_with_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        add_run(store, "r1", 1e-3, "01")
        store.add_benchmark_result("r1", BenchmarkResult("matmul", (FIT,)))
        store.add_benchmark_result("r1", BenchmarkResult("matmul", (FIT, FIT)))  # replaced, not added
        record = store.load_run("r1")
        with pytest.raises(NotFoundError):
            store.add_benchmark_result("nope", BenchmarkResult("matmul", (FIT,)))
    assert record.benchmarks == (BenchmarkResult("matmul", (FIT, FIT)),)
    data = json.loads(json.dumps(record.to_dict()))
    assert data["benchmarks"][0]["complexity"][0]["best"]["name"] == "O(n^2)"
    assert record_from_dict(data).benchmarks == record.benchmarks


def test_a_version_5_store_moves_fits_from_case_meta_into_their_table(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    with Store.open(path) as store:
        add_run(store, "old", 1e-3, "02")
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE alert_deliveries")  # added by a later migration
    conn.execute("DROP TABLE benchmark_results")  # what the version 5 -> 6 migration adds
    conn.execute("ALTER TABLE measures DROP COLUMN basis")
    conn.execute("ALTER TABLE measures DROP COLUMN provenance")
    conn.execute("DROP TABLE annotations")  # what later migrations add
    conn.execute("DROP INDEX cases_publish")
    conn.execute("UPDATE cases SET meta = ? WHERE seq = 0", [json.dumps({"pid": 3, "complexity": [FIT]})])
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        record = store.load_run("old")
    assert record.benchmarks == (BenchmarkResult("matmul", (FIT,)),)
    assert record.cases[0].meta == {"pid": 3}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
    Store.open(tmp_path / "new.db").close()
    assert schema_of(path) == schema_of(tmp_path / "new.db")


def test_a_version_1_spool_file_with_fits_in_case_meta_still_loads() -> None:
    old = {"run": {"id": "r", "started_at": "t", "status": "ok"},
           "cases": [{"benchmark": "b", "params": {"n": 8}, "status": "ok", "meta": {"complexity": [FIT]}}]}
    record = record_from_dict(old)
    assert record.benchmarks == (BenchmarkResult("b", (FIT,)),) and record.cases[0].meta == {}
