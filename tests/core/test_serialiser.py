"""One versioned serialiser per record: the same dict for the worker pipe, spool files, --json
and the store's rows; version 1 documents (extras inside meta) still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calibrax.core import (
    Basis,
    CaseResult,
    CaseStatus,
    MeasureResult,
    Provenance,
    RunInfo,
    RunRecord,
    RunStatus,
    StoreError,
    measure_for,
)
from calibrax.core.result import FORMAT_VERSION, case_from_dict, case_to_dict, record_from_dict
from calibrax.storage import Store
from tests.factories import time_case

TRACE = {"path": "/tmp/t.json", "kind": "perfetto_trace", "summary": {"ops": 3}}


def _typed_case() -> CaseResult:
    eff = MeasureResult(measure_for("roofline_efficiency"), (0.4,),
                        provenance=Provenance(Basis.DERIVED, "roofline", ("achieved_flops", "bytes_accessed")))
    custom = MeasureResult(measure_for("joules_est", "J"), (2.0,), provenance=Provenance(Basis.MODELLED, "formula"))
    return CaseResult(
        "b", {"n": 2}, CaseStatus.OK, {"roofline_efficiency": eff, "joules_est": custom}, meta={"pid": 1, "profiling": {"flops": {"source": "xla"}}},
        series={"loss": (1.0, None, 0.5)}, artifacts={"trace": TRACE}, unavailable={"energy": "no RAPL counter"},
        profiler_errors={"gpu": "Traceback ..."}, validation=({"kind": "accuracy", "passed": True},),
    )


def test_typed_extras_cross_the_pipe_and_back() -> None:
    case = _typed_case()
    data = json.loads(json.dumps(case_to_dict(case)))
    assert data["series"] == {"loss": [1.0, None, 0.5]} and data["unavailable"] == {"energy": "no RAPL counter"}
    assert "unavailable" not in data["meta"] and "artifacts" not in data["meta"]
    assert case_from_dict(data) == case


def test_a_version_1_document_with_extras_in_meta_still_loads() -> None:
    old = {"benchmark": "b", "params": {}, "status": "ok", "measures": {},
           "meta": {"pid": 4, "series": {"loss": [2.0, 1.0]}, "artifacts": {"trace": TRACE},
                    "unavailable": {"flops": "not jitted"}, "profiler_errors": {"x": "boom"}}}
    case = case_from_dict(old)
    assert case.meta == {"pid": 4} and case.series == {"loss": (2.0, 1.0)}
    assert case.artifacts == {"trace": TRACE} and case.unavailable == {"flops": "not jitted"}
    assert case.profiler_errors == {"x": "boom"}
    flops = {"flops": {"unit": "FLOP", "direction": "info", "samples": [8.0]}}
    assert case_from_dict({**old, "measures": flops}).measures["flops"].provenance.basis is Basis.MODELLED
    record = record_from_dict({"run": {"id": "r", "started_at": "t", "status": "ok"}, "cases": [old]})
    assert record.cases[0] == case  # a version 1 spool file: no format_version at all


def test_a_newer_format_is_refused_with_what_to_do() -> None:
    data = RunRecord(RunInfo("r", "t", RunStatus.OK), ()).to_dict()
    assert data["format_version"] == FORMAT_VERSION
    data["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(StoreError, match="newer than this calibrax reads .* upgrade calibrax"):
        record_from_dict(data)


def test_the_store_row_holds_the_same_extras(tmp_path: Path) -> None:
    case = _typed_case()
    with Store.open(tmp_path / "c.db") as store:
        store.begin_run(RunInfo("r1", "2026-01-01T00:00:00+00:00", RunStatus.RUNNING))
        store.add_case("r1", case)
        store.add_case("r1", time_case("b", {"n": 3}, 1e-3))
        back = store.load_run("r1").cases
        assert [a.name for a in store.load_artifacts("r1")] == ["trace"]
    assert back[0].series == case.series and back[0].artifacts == case.artifacts
    assert back[0].unavailable == case.unavailable and back[0].profiler_errors == case.profiler_errors
    for name in ("roofline_efficiency", "joules_est"):
        assert back[0].measures[name].provenance == case.measures[name].provenance
        assert back[0].measures[name].measure == case.measures[name].measure
    assert back[0].meta == case.meta and back[0].validation == ()  # judged with the run, never stored per case
    assert back[1].series == {} and back[1].unavailable == {}
