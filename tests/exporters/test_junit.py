"""Tests of the junit exporter: the XML parses, and counts and outcomes follow the record."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from report_records import SCRIPT, make_record

from calibrax.core import CaseResult, CaseStatus, ExporterError, RunRecord, Verdict, VerdictKind
from calibrax.exporters import get_exporter


def _render(record: RunRecord, **settings: object) -> ET.Element:
    text = get_exporter("junit").render(record, settings)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def _cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {(c.get("classname", ""), c.get("name", "")): c for c in root.iter("testcase")}


def test_one_testcase_per_case_and_gated_measure_with_verdicts_added() -> None:
    root = _render(make_record())
    cases = _cases(root)
    # Six cases gated on time, plus the one compile_time verdict.
    assert len(cases) == 7
    assert ("calibrax.matmul", "compile_time[n=1024, dtype=float32]") in cases
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == root.get("tests") == "7"


def test_regression_is_a_failure_and_failed_cases_are_errors() -> None:
    root = _render(make_record())
    cases = _cases(root)
    failure = cases["calibrax.matmul", "time[n=1024, dtype=float32]"].find("failure")
    assert failure is not None
    assert failure.get("type") == "regressed"
    assert "1.31×" in failure.get("message", "") and "31% slower" in failure.get("message", "")
    error = cases["calibrax.conv", "time[k=3]"].find("error")
    assert error is not None
    assert error.get("message") == "ZeroDivisionError: division by zero"
    assert "Traceback" in (error.text or "")
    crashed = cases["calibrax.attention", "time[seq=4096]"].find("error")
    assert crashed is not None and crashed.get("type") == "crashed"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("1", "2", "0")


@pytest.mark.parametrize("kind", [VerdictKind.PASS, VerdictKind.IMPROVED, VerdictKind.INCONCLUSIVE, VerdictKind.UNSTABLE])
def test_verdicts_that_do_not_fail_the_gate_pass(kind: VerdictKind) -> None:
    record = make_record()
    verdict = replace(record.verdicts[1], kind=kind)
    root = _render(replace(record, verdicts=(verdict,)))
    case = _cases(root)["calibrax.matmul", "time[n=1024, dtype=float32]"]
    assert [child.tag for child in case] == ["system-out"]
    assert kind.value in (case.findtext("system-out") or "")


@pytest.mark.parametrize("kind", [VerdictKind.INCOMPARABLE, VerdictKind.MISSING])
def test_unchecked_verdicts_are_skipped(kind: VerdictKind) -> None:
    record = make_record()
    verdict = replace(record.verdicts[1], kind=kind)
    root = _render(replace(record, verdicts=(verdict,)))
    case = _cases(root)["calibrax.matmul", "time[n=1024, dtype=float32]"]
    assert case.find("skipped") is not None
    assert root.get("skipped") == "1"


def test_timeout_is_an_error_and_skipped_case_is_skipped() -> None:
    record = make_record()
    cases = (
        CaseResult("slow", {"n": 1}, CaseStatus.TIMEOUT, error="passed case_timeout of 60 s"),
        CaseResult("later", {"n": 1}, CaseStatus.SKIPPED),
    )
    root = _render(replace(record, cases=cases, verdicts=()))
    found = _cases(root)
    assert found["calibrax.slow", "time[n=1]"].find("error") is not None
    assert found["calibrax.later", "time[n=1]"].find("skipped") is not None


def test_names_are_stable_whatever_the_outcome() -> None:
    record = make_record()
    ok_names = set(_cases(_render(replace(record, verdicts=()))))
    broken = tuple(replace(c, status=CaseStatus.ERROR, error="boom") for c in record.cases)
    assert set(_cases(_render(replace(record, cases=broken, verdicts=())))) == ok_names


def test_measures_come_from_the_gate_or_the_setting() -> None:
    record = make_record()
    run = replace(record.run, config={"thresholds": {"gate": ["time", "compile_time"]}})
    gated = _render(replace(record, run=run, verdicts=()))
    assert len(_cases(gated)) == 12
    chosen = _render(replace(record, verdicts=()), measures=["compile_time"])
    assert {name.split("[")[0] for _, name in _cases(chosen)} == {"compile_time"}
    with pytest.raises(ExporterError, match="list of measure names"):
        get_exporter("junit").render(record, {"measures": "time"})


def test_hostile_text_round_trips_and_control_characters_are_replaced() -> None:
    record = make_record()
    ansi = CaseResult("ansi", {"s": "a&b\"c'"}, CaseStatus.ERROR, error="\x1b[31mRuntimeError: red\x00\x1b[0m")
    root = _render(replace(record, cases=(*record.cases, ansi)))
    names = {c.get("classname") for c in root.iter("testcase")}
    assert f"calibrax.{SCRIPT}" in names
    case = _cases(root)["calibrax.ansi", "time[s=a&b\"c']"]
    error = case.find("error")
    assert error is not None and "RuntimeError: red" in (error.text or "")
    assert "\x1b" not in (error.text or "") and "\x00" not in (error.text or "")


def test_run_facts_are_properties() -> None:
    root = _render(make_record())
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["run_id"] == "20250301-120000-ab12"
    assert props["git_commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert props["git_dirty"] == "true"
    assert props["baseline_name"] == "main"
    assert props["backend"] == "cpu"


def test_suite_time_is_the_sum_of_case_durations() -> None:
    record = make_record()
    root = _render(record)
    assert float(root.get("time", "nan")) == pytest.approx(sum(c.duration for c in record.cases))
    shares = [float(c.get("time", "nan")) for c in root.iter("testcase")]
    assert sum(shares) == pytest.approx(float(root.get("time", "nan")))


def test_verdict_lookup_respects_params() -> None:
    record = make_record()
    other = Verdict("matmul", {"n": 256, "dtype": "float32"}, "time", VerdictKind.REGRESSED, 2.0, 1.0, 2.0, 0.05, "")
    root = _render(replace(record, verdicts=(other,)))
    found = _cases(root)
    assert found["calibrax.matmul", "time[n=256, dtype=float32]"].find("failure") is not None
    assert found["calibrax.matmul", "time[n=1024, dtype=float32]"].find("failure") is None
