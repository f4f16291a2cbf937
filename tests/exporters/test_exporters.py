"""Tests of calibrax.exporters: the registry, export_all, and each exporter's output."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_records import ESCAPED_SCRIPT, SCRIPT, TRACEBACK, chart_data, make_record

from calibrax.core import (
    CaseResult,
    CaseStatus,
    ExporterError,
    NotFoundError,
    RunInfo,
    RunRecord,
    RunStatus,
    Verdict,
    VerdictKind,
)
from calibrax.exporters import (
    EXPORTERS,
    Exporter,
    ExportOutcome,
    export_all,
    format_seconds,
    get_exporter,
    render_template,
)
from calibrax.exporters._page_charts import decode_positions

# Every shipped exporter: (name, filename). Adding an exporter means adding a row.
SHIPPED = [
    ("html", "index.html"),
    ("markdown", "summary.md"),
    ("json", "run.json"),
    ("junit", "junit.xml"),
    ("latex", "report.tex"),
]


@pytest.fixture
def record() -> RunRecord:
    """The realistic run of :func:`make_record`."""
    return make_record()


@pytest.fixture
def empty_record() -> RunRecord:
    """A run with no case, no hardware and no verdict."""
    return RunRecord(RunInfo(id="empty", started_at="", status=RunStatus.OK), cases=())


class _StrictHTML(HTMLParser):
    """Collects what the tests check and fails on mis-nested or unclosed elements."""

    VOID = {"meta", "input", "br", "hr", "img", "link", "rect", "circle", "line", "path"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.scripts: list[str] = []  # the executable scripts
        self.data_blocks: list[str] = []  # <script type="application/json"> blocks
        self.meta: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self._in_script = False
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "meta":
            self.meta.append(found)
        if tag == "script" and found.get("type") == "application/json":
            self._in_data = True
            self.data_blocks.append("")
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = self._in_data = False
        if tag in self.VOID - {"meta", "input", "br", "hr", "img", "link"}:
            return  # an SVG shape may hold a <title> and then be closed explicitly
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        elif self._in_data:
            self.data_blocks[-1] += data


def _parse(text: str) -> _StrictHTML:
    parser = _StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


@pytest.fixture
def broken_exporter() -> Iterator[str]:
    """Register an exporter that always raises; unregister it afterwards."""

    class Broken:
        name = "broken_for_test"
        filename = "broken.txt"

        def render(self, record: RunRecord, settings: Mapping[str, Any]) -> str:
            raise RuntimeError("template exploded")

    EXPORTERS.register(Broken.name, Broken())
    yield Broken.name
    EXPORTERS.unregister(Broken.name)


# --- the registry and the protocol, for every shipped exporter -------------------------------


@pytest.mark.parametrize(("name", "filename"), SHIPPED)
def test_shipped_exporter_is_registered_and_follows_protocol(
    name: str, filename: str, record: RunRecord
) -> None:
    exporter = get_exporter(name)
    assert isinstance(exporter, Exporter)
    assert (exporter.name, exporter.filename) == (name, filename)
    assert exporter.render(record, {}).strip()


@pytest.mark.parametrize(("name", "filename"), SHIPPED)
def test_shipped_exporter_renders_an_empty_run(name: str, filename: str, empty_record: RunRecord) -> None:
    assert "empty" in get_exporter(name).render(empty_record, {})


@pytest.mark.parametrize(("name", "filename"), SHIPPED)
def test_rendering_is_deterministic(name: str, filename: str, record: RunRecord) -> None:
    exporter = get_exporter(name)
    assert exporter.render(record, {}) == exporter.render(record, {})


def test_unknown_exporter_name_suggests_a_close_match() -> None:
    with pytest.raises(NotFoundError, match=r"Did you mean 'markdown'\?"):
        get_exporter("markdwn")


# --- export_all ------------------------------------------------------------------------------


def test_export_all_writes_one_file_per_exporter(record: RunRecord, tmp_path: Path) -> None:
    out_dir = tmp_path / "reports" / "run"
    outcome = export_all(record, [name for name, _ in SHIPPED], out_dir)
    expected = {n: out_dir / f for n, f in SHIPPED}
    assert outcome == ExportOutcome(written=expected, failed={}, entry=expected["html"])  # html declares entry
    assert outcome.ok
    for name, filename in SHIPPED:
        assert (out_dir / filename).read_text(encoding="utf-8") == get_exporter(name).render(record, {})
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f for _, f in SHIPPED)


def test_a_failing_exporter_is_recorded_and_the_others_still_run(
    record: RunRecord, tmp_path: Path, broken_exporter: str
) -> None:
    outcome = export_all(record, ["html", broken_exporter, "markdown", "json"], tmp_path)
    assert outcome.failed == {broken_exporter: "RuntimeError: template exploded"}
    assert not outcome.ok
    assert set(outcome.written) == {"html", "markdown", "json"}
    assert all(path.is_file() for path in outcome.written.values())
    assert not (tmp_path / "broken.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_all_rejects_an_unknown_name_before_writing(record: RunRecord, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="'html'"):
        export_all(record, ["json", "htm"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_all_passes_each_exporter_its_own_settings(record: RunRecord, tmp_path: Path) -> None:
    settings = {"html": {"title": "Nightly <GPU> report"}, "markdown": {}}
    outcome = export_all(record, ["html", "markdown"], tmp_path, settings)
    page = outcome.written["html"].read_text(encoding="utf-8")
    assert "<title>Nightly &lt;GPU&gt; report</title>" in page
    assert "Nightly" not in outcome.written["markdown"].read_text(encoding="utf-8")


# --- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "template", "override"),
    [
        ("markdown", "summary.md.j2", "custom summary of {{ run.id }}: {{ cases | length }} cases"),
        ("html", "report.html.j2", "<p>custom page for {{ record.run.id }} {{ title }}</p>"),
    ],
)
def test_user_template_dir_overrides_the_packaged_template(
    name: str, template: str, override: str, record: RunRecord, tmp_path: Path
) -> None:
    (tmp_path / template).write_text(override, encoding="utf-8")
    text = get_exporter(name).render(record, {"template_dir": str(tmp_path)})
    assert text.startswith(("custom summary of 20250301-120000-ab12: 6 cases", "<p>custom page for"))


def test_template_dir_that_is_not_a_folder_is_an_exporter_error(record: RunRecord, tmp_path: Path) -> None:
    with pytest.raises(ExporterError, match="is not a folder"):
        get_exporter("markdown").render(record, {"template_dir": str(tmp_path / "missing")})


def test_render_template_escapes_html_but_not_markdown(tmp_path: Path) -> None:
    (tmp_path / "probe.html.j2").write_text("{{ x }}", encoding="utf-8")
    (tmp_path / "probe.md.j2").write_text("{{ x }}", encoding="utf-8")
    assert render_template("probe.html.j2", tmp_path, x="<b>") == "&lt;b&gt;"
    assert render_template("probe.md.j2", tmp_path, x="<b>") == "<b>"


def test_render_template_rejects_undefined_variables(tmp_path: Path) -> None:
    (tmp_path / "strict.md.j2").write_text("{{ missing }}", encoding="utf-8")
    with pytest.raises(Exception, match="missing"):
        render_template("strict.md.j2", tmp_path)


# --- JSON ------------------------------------------------------------------------------------


def test_json_is_exactly_the_documented_shape(record: RunRecord) -> None:
    text = get_exporter("json").render(record, {})
    assert json.loads(text) == record.to_dict()
    assert list(json.loads(text)) == list(record.to_dict())  # the same keys in the same order


def test_json_writes_non_finite_numbers_as_null(record: RunRecord) -> None:
    nan_verdict = Verdict("conv", {"k": 3}, "time", VerdictKind.MISSING, math.nan, None, None, 0.05, "")
    nan_record = RunRecord(record.run, record.cases, (nan_verdict,), record.baseline)
    loaded = json.loads(get_exporter("json").render(nan_record, {}), parse_constant=pytest.fail)
    assert loaded["verdicts"][0]["ratio"] is None


# --- HTML ------------------------------------------------------------------------------------


def test_html_is_well_formed_with_one_chart_perok_case(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {})
    parsed = _parse(page)
    ok_cases = [c for c in record.cases if c.status is CaseStatus.OK]
    # the Pareto chart of time against compile_time is SVG (a mark per case); each ok case's
    # strip chart is a slot the script fills from the page's data, with a dot per sample
    assert parsed.tags.count("svg") == 1 and parsed.tags.count("circle") == len(ok_cases)
    assert page.count('<div class="drawn" data-chart="s">') == len(ok_cases) == 4
    strips = [entry["s"] for entry in chart_data(page)["cases"].values()]
    assert [len(decode_positions(s[0])) for s in strips] == [40] * len(ok_cases)
    assert len(parsed.scripts) == 1 and len(parsed.data_blocks) == 1
    assert [h for h in parsed.hrefs if not h.startswith("#")] == []
    assert {h[1:] for h in parsed.hrefs} <= set(parsed.ids)


def test_html_needs_no_network(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {}).lower()
    # the script names the SVG namespace to create chart elements: a name, never fetched
    assert page.count('"http://www.w3.org/2000/svg"') == 1
    page = page.replace('"http://www.w3.org/2000/svg"', "")
    for needle in ('src="http', "href=\"http", "@import", "url(", "http://", "https://", "<link"):
        assert needle not in page
    policy = next(m for m in _parse(page).meta if m.get("http-equiv") == "content-security-policy")
    assert "default-src 'none'" in str(policy["content"])


def test_html_policy_allows_exactly_its_inline_script(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {})
    parsed = _parse(page)
    digest = base64.b64encode(hashlib.sha256(parsed.scripts[0].encode()).digest()).decode()
    policy = next(m["content"] for m in parsed.meta if m.get("http-equiv") == "Content-Security-Policy")
    assert f"script-src 'sha256-{digest}'" in str(policy)


def test_html_escapes_every_value_from_the_record(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {"title": SCRIPT})
    assert SCRIPT not in page
    assert ESCAPED_SCRIPT in page
    assert "</script><b>" not in page  # the config is shown as text, not markup
    assert _parse(page).scripts[0].count("alert") == 0


def test_html_shows_run_facts_counts_and_verdicts(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {})
    for text in [
        "20250301-120000-ab12",
        "0123456789ab",
        "AMD EPYC 7763 64-Core Processor",
        "64 GiB",
        record.run.hardware.fingerprint if record.run.hardware else "",
        '<span class="badge status-ok">4 ok</span>',
        '<span class="badge status-error">1 error</span>',
        '<span class="badge status-crashed">1 crashed</span>',
        '<span class="badge verdict-regressed">1 regressed</span>',
        '<code>compile_time</code> <span class="badge verdict-inconclusive">1 inconclusive</span>',  # per measure
        "20250228-090000-cd34",
        "1.31×",
        "ZeroDivisionError: division by zero",
        "worker killed by signal 9",
    ]:
        assert text in page


def test_html_table_row_shows_time_statistics(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {})
    case = record.cases[0]
    summary = case.measures["time"].summary
    assert summary is not None
    row = page[page.index('<a href="#case-0">') : page.index("</tr>", page.index('<a href="#case-0">'))]
    assert f">{format_seconds(summary.median)}<" in row
    assert f'data-sort="{summary.median:.6g}"' in row  # 6 significant digits sort as the shown value
    assert ">40<" in row and ">64<" in row
    assert f">{format_seconds(case.measures['compile_time'].samples[0])}<" in row
    assert "verdict-pass" in row


def test_html_error_text_is_in_a_details_block(record: RunRecord) -> None:
    page = get_exporter("html").render(record, {})
    escaped = TRACEBACK.replace('"', "&#34;")
    assert re.search(r"<details>\s*<summary>ZeroDivisionError: division by zero</summary>\s*<pre>", page)
    assert escaped in page


# --- Markdown --------------------------------------------------------------------------------


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| `")]


def test_markdown_title_counts_and_verdicts(record: RunRecord) -> None:
    text = get_exporter("markdown").render(record, {})
    lines = text.splitlines()
    assert lines[0] == "## ❌ calibrax run `20250301-120000-ab12`: 2 failed, 1 regressed"
    assert "6 cases: 4 ok, 1 error, 1 crashed" in lines[2]
    assert "### Verdicts against `main` (run id `20250228-090000-cd34`)" in text
    assert "`time`: **1 regressed**, 1 pass, 1 improved · `compile_time`: 1 inconclusive" in text


def test_markdown_title_follows_the_exit_code_not_only_the_run_status(record: RunRecord) -> None:
    from calibrax.core import RunStatus, ValidationEntry
    from calibrax.exporters import ReportInput

    ok_run = replace(record.run, status=RunStatus.OK)
    ran = tuple(c for c in record.cases if c.status is CaseStatus.OK)
    regressed = RunRecord(ok_run, ran, record.verdicts, record.baseline)
    first = get_exporter("markdown").render(regressed, {}).splitlines()[0]
    assert first.startswith("## ❌") and first.endswith(": 1 regressed")
    passing = RunRecord(ok_run, ran, tuple(v for v in record.verdicts if v.kind.value != "regressed"), record.baseline)
    assert get_exporter("markdown").render(passing, {}).splitlines()[0].startswith("## ✅")
    violation = ValidationEntry("convergence", "loss", False, "loss 0.4 > 0.1 at step 150")
    gated = ReportInput(passing, validation=(violation,), validation_gate=True)
    assert get_exporter("markdown").render(gated, {}).splitlines()[0].endswith(": 1 validation violation")
    ungated = ReportInput(passing, validation=(violation,), validation_gate=False)
    assert get_exporter("markdown").render(ungated, {}).splitlines()[0].startswith("## ✅")


def test_markdown_lists_the_regressed_case_first(record: RunRecord) -> None:
    rows = _table_rows(get_exporter("markdown").render(record, {}))
    assert rows[0].startswith("| `matmul` | `n=1024, dtype=float32` | `time` |")
    assert "**regressed**" in rows[0]
    assert all("regressed" not in row for row in rows[1:])


def test_markdown_escapes_pipes_and_newlines_in_cells(record: RunRecord) -> None:
    multiline = CaseResult("two\nlines", {"s": "a\nb"}, CaseStatus.ERROR, error="boom|bang\nmore")
    record = RunRecord(record.run, (*record.cases, multiline), record.verdicts, record.baseline)
    text = get_exporter("markdown").render(record, {})
    assert "relu\\|gelu" in text
    assert "relu|gelu" not in text.replace("relu\\|gelu", "")
    assert "| `two lines` | `s=a b` | error | `boom\\|bang` |" in text
    rows = _table_rows(text)
    header_cells = "| Benchmark | Params | Status | Median time | CI (median) | n |".count("|")
    all_cases = rows[-len(record.cases) :]
    assert all(row.replace("\\|", "").count("|") == header_cells for row in all_cases)


def test_markdown_collapses_all_cases_and_lists_failures(record: RunRecord) -> None:
    text = get_exporter("markdown").render(record, {})
    assert "<details><summary>All 6 cases</summary>" in text
    failed = text[text.index("### Failed cases") : text.index("<details><summary>All")]
    assert "| `conv` | `k=3` | error | `ZeroDivisionError: division by zero` |" in failed
    assert "| `attention` | `seq=4096` | crashed | `worker killed by signal 9` |" in failed
    assert "matmul" not in failed


def test_markdown_without_verdicts_has_no_verdict_section(record: RunRecord) -> None:
    plain = RunRecord(record.run, record.cases)
    text = get_exporter("markdown").render(plain, {})
    assert "Verdicts" not in text and "regressed" not in text


# --- formatting and chart geometry -----------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1.234e-9, "1.23 ns"),
        (4.2e-5, "42 µs"),
        (0.0009997, "1 ms"),
        (0.00121, "1.21 ms"),
        (0.5, "500 ms"),
        (12.345, "12.3 s"),
        (0.0, "0 s"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_format_seconds_uses_si_units(seconds: float | None, expected: str) -> None:
    assert format_seconds(seconds) == expected
