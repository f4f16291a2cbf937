"""The ``junit`` exporter: JUnit XML that CI servers show as test results.

Every case gives one ``<testcase>`` per gated measure, so the set of test names stays the same
from run to run whatever happens to the case: a regression is a ``<failure>``, a case that
errored, crashed or timed out is an ``<error>``, a measure that could not be compared
(incomparable hardware, a missing baseline case) or a skipped case is ``<skipped>``, and
everything else passes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from calibrax.core import CaseResult, CaseStatus, ExporterError, RunRecord, Verdict, VerdictKind
from calibrax.exporters import _numbers, _rows, _text
from calibrax.exporters._protocol import BaseExporter
from calibrax.exporters._registry import EXPORTERS
from calibrax.exporters._report_input import ReportInput
from calibrax.exporters._rows import FAILED_STATUSES
from calibrax.exporters._settings import JunitSettings

__all__ = ["JunitExporter", "gated_measures"]

_UNCHECKED = frozenset({VerdictKind.INCOMPARABLE, VerdictKind.MISSING})
# Characters XML 1.0 does not allow anywhere, not even escaped (ANSI colour codes in a
# traceback are the usual source).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class JunitExporter(BaseExporter[JunitSettings]):
    """Writes ``junit.xml``: one ``<testsuite>`` for the run, one ``<testcase>`` per case and measure.

    A testcase is named ``MEASURE[PARAMS]`` in the class ``calibrax.BENCHMARK``; its time is
    the case's wall time shared between its measures, and its ``<system-out>`` holds the
    median, the interval and the verdict in words.

    Its settings are :class:`~calibrax.exporters.JunitSettings`: ``measures`` get a testcase
    (default: the run's ``thresholds.gate``, else ``["time"]``); any other measure with a
    verdict gets one too.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> case = CaseResult("matmul", {"n": 8}, CaseStatus.ERROR, error="ValueError: n")
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.FAILED), (case,))
        >>> root = ET.fromstring(JunitExporter().render(record))
        >>> root.get("tests"), root.get("errors"), root.find(".//testcase").get("name")
        ('1', '1', 'time[n=8]')
    """

    name = "junit"
    filename = "junit.xml"
    settings_type = JunitSettings
    definition_key = "calibrax.exporters.junit.JunitExporter"

    def render_report(self, report: ReportInput, settings: JunitSettings, folder: Path | None = None) -> str:
        """Return the JUnit XML document of the run."""
        record = report.record
        measures = gated_measures(record, settings.measures)
        suite = ET.Element("testsuite", _suite_attributes(record))
        suite.append(_properties(record))
        index = {(_rows.case_key(v.benchmark, v.params), v.measure): v for v in record.verdicts}
        for case in record.cases:
            names = list(measures) + [
                m for (key, m) in index if key == case.key and m not in measures
            ]
            share = case.duration / len(names) if names else 0.0
            for measure in names:
                suite.append(_testcase(case, measure, index.get((case.key, measure)), share))
        _count(suite)
        root = ET.Element("testsuites", {"name": _clean(settings.suite_name)})
        root.append(suite)
        for attribute in ("tests", "failures", "errors", "skipped", "time"):
            root.set(attribute, suite.get(attribute, "0"))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def gated_measures(record: RunRecord, chosen: Sequence[str] | None = None) -> tuple[str, ...]:
    """The measures that get a testcase: ``chosen``, else the run's gate, else ``time``.

    Raises:
        ExporterError: ``chosen`` is not a list of measure names.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r", started_at="", status=RunStatus.OK,
        ...               config={"thresholds": {"gate": ["time", "peak_rss"]}})
        >>> gated_measures(RunRecord(run, ()))
        ('time', 'peak_rss')
    """
    if chosen is None:
        thresholds = record.run.config.get("thresholds") or {}
        chosen = thresholds.get("gate") if isinstance(thresholds, Mapping) else None
        chosen = chosen or ["time"]
    if isinstance(chosen, str) or not all(isinstance(m, str) for m in chosen):
        raise ExporterError(
            f"The junit exporter's measures setting must be a list of measure names such as "
            f"[time, compile_time], got {chosen!r}."
        )
    return tuple(dict.fromkeys(chosen))


def _clean(text: object) -> str:
    """``text`` without the characters XML 1.0 cannot hold (each becomes U+FFFD)."""
    return _NOT_XML.sub("\ufffd", str(text))


def _suite_attributes(record: RunRecord) -> dict[str, str]:
    attributes = {"name": _clean(f"calibrax run {record.run.id}"), "id": _clean(record.run.id)}
    if record.run.started_at:
        attributes["timestamp"] = _clean(record.run.started_at)
    if record.run.hardware is not None:
        attributes["hostname"] = _clean(record.run.hardware.platform)
    return attributes


def _properties(record: RunRecord) -> ET.Element:
    run = record.run
    facts: dict[str, object] = {
        "run_id": run.id,
        "run_status": run.status.value,
        "git_commit": run.git.commit,
        "git_branch": run.git.branch,
        "git_dirty": run.git.dirty,
        "sweep_id": run.sweep_id,
    }
    if run.hardware is not None:
        facts.update(
            backend=run.hardware.backend,
            device=f"{run.hardware.device_count} x {run.hardware.device_kind}",
            cpu=run.hardware.cpu_model,
            hardware_fingerprint=run.hardware.fingerprint,
        )
    facts.update({f"baseline_{key}": value for key, value in record.baseline.items()})
    properties = ET.Element("properties")
    for name, value in facts.items():
        if value is not None:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            ET.SubElement(properties, "property", {"name": name, "value": _clean(text)})
    return properties


def _testcase(case: CaseResult, measure: str, verdict: Verdict | None, seconds: float) -> ET.Element:
    params = _text.format_params(case.params)
    element = ET.Element(
        "testcase",
        {
            "classname": _clean(f"calibrax.{case.benchmark}"),
            "name": _clean(f"{measure}[{params}]"),
            "time": f"{seconds:.6f}",
        },
    )
    if case.status in FAILED_STATUSES:
        headline = _text.error_headline(case.error) or f"the case ended {case.status.value}"
        error = ET.SubElement(
            element, "error", {"type": case.status.value, "message": _clean(headline)}
        )
        error.text = _clean(case.error or headline)
        return element
    if case.status is CaseStatus.SKIPPED:
        ET.SubElement(element, "skipped", {"message": _clean(case.error or "the case was skipped")})
        return element
    if verdict is not None and verdict.kind is VerdictKind.REGRESSED:
        failure = ET.SubElement(
            element, "failure", {"type": "regressed", "message": _clean(_verdict_line(verdict))}
        )
        failure.text = _clean(_measured_line(case, measure, verdict))
        return element
    if verdict is not None and verdict.kind in _UNCHECKED:
        ET.SubElement(element, "skipped", {"message": _clean(_verdict_line(verdict))})
    out = ET.SubElement(element, "system-out")
    out.text = _clean(_measured_line(case, measure, verdict))
    return element


def _verdict_line(verdict: Verdict) -> str:
    """The verdict in one line: kind, ratio, margin and the gate's message."""
    parts = [f"{verdict.measure} {verdict.kind.value}"]
    if verdict.ratio is not None:
        parts.append(f"{_numbers.format_ratio(verdict.ratio)} the baseline")
    parts.append(f"margin {verdict.margin:.0%}")
    line = ", ".join(parts)
    return f"{line}: {verdict.message}" if verdict.message else line


def _measured_line(case: CaseResult, measure: str, verdict: Verdict | None) -> str:
    """What was measured, and the baseline's value when there is a verdict."""
    result = case.measures.get(measure)
    if result is None or result.summary is None:
        text = f"{measure}: not measured"
        unit = result.measure.unit if result else "1"
    else:
        unit, summary = result.measure.unit, result.summary
        text = (
            f"{measure}: median {_numbers.format_value(summary.median, unit)}, 95% CI "
            f"{_numbers.format_interval(summary.ci_low, summary.ci_high, unit)}, n={summary.n}"
        )
    if verdict is not None:
        text += (
            f"; baseline {_numbers.format_value(verdict.baseline, unit)}; "
            f"verdict {_verdict_line(verdict)}"
        )
    return text


def _count(suite: ET.Element) -> None:
    """Set the ``tests``, ``failures``, ``errors``, ``skipped`` and ``time`` totals of ``suite``."""
    cases = suite.findall("testcase")
    totals = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    for name, value in totals.items():
        suite.set(name, str(value))
    suite.set("time", f"{sum(float(c.get('time', 0)) for c in cases):.6f}")


EXPORTERS.register(JunitExporter.name, JunitExporter())
