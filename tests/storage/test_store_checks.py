"""Alerts and validation reports in the store (schema version 3)."""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from factories import run_info, time_case

from calibrax.core import Alert, CalibraxError, NotFoundError, Severity, ValidationEntry
from calibrax.storage import SCHEMA_VERSION, Store
from calibrax.validation import ConvergenceCriteria, check_convergence, compare_precisions, validation_report


def _alert(i: int, severity: Severity, run_id: str | None = None) -> Alert:
    return Alert(f"id{i}", "slow", severity, f"alert {i}", f"2026-01-0{i}T00:00:00+00:00", {"benchmark": "mm"},
                 float(i), 1.0, run_id, {"streak": i})


def test_a_new_store_has_the_alert_and_validation_tables(tmp_path: Path) -> None:
    import sqlite3

    Store.open(tmp_path / "t.db").close()
    names = {r[0] for r in sqlite3.connect(tmp_path / "t.db").execute("SELECT name FROM sqlite_master")}
    assert {"alerts", "validations", "alerts_run"} <= names
    assert SCHEMA_VERSION >= 3


def test_alerts_are_stored_once_per_id(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        alerts = [_alert(1, Severity.INFO), _alert(2, Severity.CRITICAL, "r1"), _alert(3, Severity.WARNING)]
        assert store.add_alerts(alerts) == alerts
        assert store.add_alerts([alerts[0], _alert(4, Severity.ERROR)]) == [_alert(4, Severity.ERROR)]
        assert [a.id for a in store.load_alerts()] == ["id4", "id3", "id2", "id1"]  # newest first
        assert store.load_alerts(limit=1) == [_alert(4, Severity.ERROR)]
        assert [a.id for a in store.load_alerts(min_severity="error")] == ["id4", "id2"]
        assert store.load_alerts(run_id="r1") == [alerts[1]]
        assert store.alert_ids() == {"id1", "id2", "id3", "id4"}


@pytest.mark.parametrize("kwargs, match", [({"limit": -1}, "limit must be"), ({"min_severity": "loud"}, "min_severity must be one of")])
def test_bad_alert_queries_are_refused(tmp_path: Path, kwargs: dict, match: str) -> None:
    with Store.open(tmp_path / "c.db") as store, pytest.raises(CalibraxError, match=match):
        store.load_alerts(**kwargs)


def test_benchmark_names(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        assert store.benchmark_names() == []
        store.begin_run(run_info("r1"))
        store.add_case("r1", time_case("softmax", {}, 1e-3))
        store.add_case("r1", time_case("matmul", {"n": 1}, 1e-3))
        store.add_case("r1", time_case("matmul", {"n": 2}, 1e-3))
        assert store.benchmark_names() == ["matmul", "softmax"]


def test_a_validation_report_with_float32_error_figures_is_stored(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
    matmul = compare_precisions(jnp.matmul, a, b, name="matmul float32 vs float64")
    total = compare_precisions(jnp.sum, rng.standard_normal(10_000), name="sum float32 vs float64")
    loss = check_convergence([0.5**k for k in range(30)], ConvergenceCriteria((1e-3,)))
    report = validation_report("r1", [matmul, total, loss], gate=True)
    with Store.open(tmp_path / "c.db") as store:
        store.begin_run(run_info("r1"))
        store.add_validation("r1", report.entries, gate=report.gate)
    with Store.open(tmp_path / "c.db") as store:
        entries, gate = store.load_validation("r1")
    assert entries == list(report.entries) and gate is True
    stored = entries[0].figures
    assert stored["max_abs"] == matmul.max_abs and stored["mean_ulps"] == matmul.mean_ulps
    assert stored["dtype"] == "float32" and stored["reference_dtype"] == "float64"
    assert entries[1].figures["max_rel"] == total.max_rel


def test_validation_replaces_and_needs_a_run(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        store.begin_run(run_info("r1"))
        store.add_validation("r1", [ValidationEntry("accuracy", "a", True, "ok")])
        store.add_validation("r1", [ValidationEntry("accuracy", "b", False, "bad")])
        assert store.load_validation("r1") == ([ValidationEntry("accuracy", "b", False, "bad")], False)
        assert store.load_validation("other") == ([], False)
        with pytest.raises(NotFoundError, match="No run with id 'nope'"):
            store.add_validation("nope", [])
