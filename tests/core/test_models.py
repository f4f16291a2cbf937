from __future__ import annotations

import json

from calibrax.core import (
    STANDARD_MEASURES,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    MeasureResult,
    RunInfo,
    RunRecord,
    RunStatus,
    case_from_dict,
    measure_for,
)
from calibrax.core.result import FORMAT_VERSION
from calibrax.statistics import summarize


def _hw(**kw: object) -> HardwareInfo:
    base = dict(backend="cpu", device_kind="cpu", device_count=1, cpu_model="EPYC", cpu_count=2,
                memory_bytes=1 << 30, platform="Linux", python="3.11.7")
    base.update(kw)
    return HardwareInfo(**base)  # type: ignore[arg-type]


def test_standard_measures_have_units_and_directions() -> None:
    assert STANDARD_MEASURES["time"].unit == "s"
    assert STANDARD_MEASURES["time"].direction is Direction.LOWER
    assert STANDARD_MEASURES["throughput"].direction is Direction.HIGHER
    assert measure_for("accuracy", "1", Direction.HIGHER).direction is Direction.HIGHER


def test_fingerprint_depends_on_comparability_fields_only() -> None:
    assert _hw().fingerprint == _hw(memory_bytes=2 << 30, python="3.11.9").fingerprint
    assert _hw().fingerprint != _hw(cpu_count=4).fingerprint
    assert _hw().fingerprint != _hw(backend="gpu").fingerprint


def test_case_key_is_independent_of_param_order() -> None:
    a = CaseResult("b", {"n": 1, "m": 2}, CaseStatus.OK)
    b = CaseResult("b", {"m": 2, "n": 1}, CaseStatus.OK)
    assert a.key == b.key


def test_show_json_shape_round_trips_samples() -> None:
    samples = (1.0, 2.0, 3.0, 4.0, 5.0)
    m = MeasureResult(STANDARD_MEASURES["time"], samples, summarize(samples), {"calls_per_round": 10})
    case = CaseResult("matmul", {"n": 8}, CaseStatus.OK, {"time": m}, started_at="t", duration=0.5)
    run = RunInfo("r1", "2026-01-01T00:00:00+00:00", RunStatus.OK, GitInfo("abc", "main", False), _hw())
    data = json.loads(json.dumps(RunRecord(run, (case,)).to_dict()))
    assert set(data) == {"format_version", "run", "cases"} and data["format_version"] == FORMAT_VERSION
    assert {"id", "status", "started_at", "git", "hardware", "config"} <= set(data["run"])
    t = data["cases"][0]["measures"]["time"]
    assert {"unit", "direction", "n", "median", "mean", "min", "max", "ci_low", "ci_high", "samples"} <= set(t)
    assert t["median"] == 3.0 and t["samples"] == list(samples) and t["unit"] == "s"
    back = case_from_dict(data["cases"][0])
    assert back.measures["time"].samples == samples
    assert back.measures["time"].meta == {"calls_per_round": 10}
    assert back.key == case.key
