"""The runner's side of the validation: block: read from a benchmark file, judged into the exit
code, and carried through spooled sweep jobs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from factories import time_case

from calibrax.core import CaseStatus, ConfigError
from calibrax.runner.catalog import load_benchmark_entry
from calibrax.runner.run import exit_code_for
from calibrax.validation import parse_validation, validation_entries, validation_report


def conv(**kw: Any) -> dict[str, Any]:
    return {"type": "convergence", "series": "loss", "tolerances": [0.1], **kw}


def test_a_mistyped_block_in_a_benchmark_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "benchmark" / "b.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("source: mod\nvalidation: [loss]\n")
    with pytest.raises(ConfigError, match="'validation' must be a mapping with gate"):
        load_benchmark_entry(path)
    path.write_text("source: mod\nvalidation: {gate: true, checks: [{type: convergence, series: loss, tolerances: [1]}]}\n")
    assert load_benchmark_entry(path).validation["gate"] is True


def _case(params: dict, series: dict | None, status: CaseStatus = CaseStatus.OK) -> Any:
    case = time_case("b", params, 1e-3, status=status)
    return case if series is None else replace(case, series=series)


def test_only_gating_violations_fail_the_run() -> None:
    diverged = [1.0, 0.5, 2.0, 50.0, None]
    cases = [_case({}, {"loss": diverged})]
    for gate, code in ((True, 1), (False, 0)):
        spec = parse_validation("b", {"gate": gate, "checks": [conv()]})
        assert spec is not None
        [entry] = validation_entries({"b": spec}, cases)
        assert entry.figures["status"] == "diverged" and entry.figures["diverged_step"] == 3
        report = validation_report("r1", [entry], gate=gate)
        assert exit_code_for(cases, None, report) == code
    failed = [_case({}, {"loss": diverged}, CaseStatus.ERROR)]
    assert exit_code_for(failed, None, report) == 3  # a failed case outranks a violation


def test_spooled_validation_checks_and_artifacts_survive_ingestion(tmp_path: Path) -> None:
    import json

    from factories import record

    from calibrax.core import ValidationEntry
    from calibrax.runner.sweep import RESULT_FILE, ingest_path
    from calibrax.storage import Store
    from calibrax.validation import entry_to_dict

    trace = {"path": "/job/traces/r1/b/n=1/perfetto_trace.json.gz", "kind": "perfetto_trace", "summary": {"ops": []}}
    case = replace(time_case("b", {"n": 1}, 1e-3), artifacts={"trace": trace})
    payload = record("r1", [time_case("b", {"n": 0}, 1e-3), case]).to_dict()
    entry = ValidationEntry("convergence", "b[n=1] loss", False, "b[n=1] loss diverged", {"gate": True})
    payload["validation"] = {"gate": True, "entries": [entry_to_dict(entry)]}
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / RESULT_FILE).write_text(json.dumps(payload))
    with Store.open(tmp_path / "main.db") as store:
        assert ingest_path(store, tmp_path) == ["r1"]
        assert store.load_validation("r1") == ([entry], True)
        [artifact] = store.load_artifacts("r1")
        assert (artifact.case_seq, artifact.path, artifact.summary) == (1, trace["path"], {"ops": []})
