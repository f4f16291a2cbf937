"""Tests of the HTML report's baseline charts and its configuration and environment sections."""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from report_records import ESCAPED_SCRIPT, SCRIPT, chart_data, make_record, ok_case
from test_exporters import _parse

from calibrax.core import ExporterError, RunRecord
from calibrax.exporters import get_exporter, html_context, shared_domain
from calibrax.exporters import html as html_module
from calibrax.exporters._page_charts import LEVELS, decode_positions, encode_positions, strip_data, strip_pairs
from calibrax.exporters._templates import badge_span, render_template


def _baseline(record: RunRecord) -> RunRecord:
    """The same cases measured 10% faster, in a run whose id is hostile."""
    cases = tuple(
        ok_case(c.benchmark, c.params, c.measures["time"].samples[0] / 1.1, 100 + i)
        for i, c in enumerate(record.cases[:3])
    )
    return RunRecord(replace(record.run, id=f"base-{SCRIPT}"), cases)


def _articles(text: str) -> list[str]:
    return re.findall(r'<article class="case".*?</article>', text, flags=re.S)


def test_baseline_samples_are_drawn_beside_the_candidates_on_one_axis() -> None:
    record = make_record()
    baseline = _baseline(record)
    text = get_exporter("html").render(record, {"baseline": baseline})
    _parse(text)
    articles = _articles(text)
    cases = chart_data(text)["cases"]
    for i, article in enumerate(articles[:3]):
        assert re.findall(r'data-chart="(\w)"', article) == ["s", "b"]
        this, base = cases[f"case-{i}"]["s"], cases[f"case-{i}"]["b"]
        assert this[2] and base[2] == 0  # one shared axis: the baseline reuses this run's ticks
        # both are placed on the axis that holds both runs' samples
        ours, theirs = record.cases[i].measures["time"].samples, baseline.cases[i].measures["time"].samples
        domain = shared_domain(ours, theirs)
        assert domain is not None
        for drawn, samples in ((this, ours), (base, theirs)):
            expected = [(v - domain[0]) / (domain[1] - domain[0]) for v in samples]
            assert decode_positions(drawn[0]) == pytest.approx(expected, abs=1 / 4095)
        assert f"Baseline run <code>base-{ESCAPED_SCRIPT}</code>, same axis" in article
    # The hostile case has no baseline case: its chart stands alone.
    assert re.findall(r'data-chart="(\w)"', articles[3]) == ["s"] and "Baseline run" not in articles[3]
    assert set(cases["case-3"]) == {"s"}
    assert SCRIPT not in text


def test_without_a_baseline_each_case_has_one_chart() -> None:
    text = get_exporter("html").render(make_record(), {})
    assert [a.count("data-chart=") for a in _articles(text)] == [1, 1, 1, 1, 0, 0]
    assert all(set(entry) == {"s"} for entry in chart_data(text)["cases"].values())


def test_baseline_setting_must_be_a_record() -> None:
    with pytest.raises(ExporterError, match="baseline setting must be the baseline run's RunRecord"):
        get_exporter("html").render(make_record(), {"baseline": "main"})


def test_config_and_environment_are_collapsible_json() -> None:
    record = make_record()
    text = get_exporter("html").render(record, {})
    parser = _parse(text)
    assert {"config", "environment"} <= set(parser.ids)
    context = html_context(record, "t")
    environment = json.loads(context["environment_json"])
    assert environment["hardware"]["versions"] == {"jax": "0.6.0", "jaxlib": "0.6.0"}
    assert environment["git"]["commit"] == record.run.git.commit
    assert environment["overrides"] == ["suite=default"]
    section = text[text.index('<details id="environment">'):]
    assert "&#34;jaxlib&#34;: &#34;0.6.0&#34;" in section
    assert "</script><b>x</b>" not in text


def test_shared_domain_covers_both_groups_and_charts_respect_it() -> None:
    domain = shared_domain([1.0, 2.0], [4.0, float("nan")])
    assert domain is not None and domain[0] < 1.0 and domain[1] > 4.0
    narrow = strip_data([1.0, 2.0], "1", domain)
    wide = strip_data([4.0], "1", domain)
    assert narrow is not None and wide is not None
    assert narrow.ticks == wide.ticks
    assert max(decode_positions(narrow.dots)) < min(decode_positions(wide.dots))
    assert shared_domain([], [float("inf")]) is None


def test_render_speed_script_runs_on_a_small_run() -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "meta" / "render_speed.py"
    done = subprocess.run(
        [sys.executable, str(script), "--cases", "30", "--samples", "5", "--repeats", "1", "--history-runs", "12"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("30 cases x 5 samples")
    assert [line.split()[0] for line in lines[1:]] == ["html", "read", "html", "latex"]


def test_a_traced_case_links_its_trace_and_lists_its_top_ops() -> None:
    record = make_record()
    summary = {"scope": "host", "calls": 3, "total_us": 90.0,
               "ops": [{"op": "<b>fusion</b>", "module": "jit_f", "count": 6, "total_us": 60.0, "mean_us": 10.0, "share": 2 / 3},
                       {"op": "dot.1", "module": "jit_f", "count": 3, "total_us": 30.0, "mean_us": 10.0, "share": 1 / 3}]}
    trace = {"path": "/data/traces/r1/matmul/n=8 x/perfetto_trace.json.gz", "kind": "perfetto_trace", "summary": summary}
    traced = replace(record.cases[0], artifacts={"trace": trace})
    page = get_exporter("html").render(replace(record, cases=(traced, *record.cases[1:])), {})
    _parse(page)
    assert 'href="file:///data/traces/r1/matmul/n%3D8%20x/perfetto_trace.json.gz"' in page
    assert "Trace of 3 calls" in page and "top XLA ops by host time" in page
    assert "<code>&lt;b&gt;fusion&lt;/b&gt;</code>" in page and "<b>fusion</b>" not in page
    assert page.count("66.7%") == 1 and "<code>dot.1</code>" in page
    untraced = get_exporter("html").render(record, {})
    assert "Trace of" not in untraced


def test_control_characters_never_reach_the_page() -> None:
    record = make_record()
    error = "Traceback (most recent call last):\n\tValueError: \x1b[31mboom\x1b[0m\x00 at \x07 step\r"
    failed = replace(record.cases[4], error=error)
    page = get_exporter("html").render(replace(record, cases=(*record.cases[:4], failed, *record.cases[5:])), {})
    _parse(page)
    assert re.search("[\x00-\x08\x0b-\x1f]", page) is None
    assert "ValueError: \ufffd[31mboom\ufffd[0m\ufffd at \ufffd step\ufffd" in page
    assert "Traceback (most recent call last):\n\tValueError" in page  # tab and newline stay


def test_cases_table_has_a_column_per_quality_metric_and_throughput_in_its_unit() -> None:
    from calibrax.core import STANDARD_MEASURES, Direction, Measure, MeasureResult

    record = make_record()
    run = replace(record.run, config={**record.run.config, "plan": {"quality_metrics": {"matmul": ["accuracy"]}}})
    tokens = replace(STANDARD_MEASURES["throughput"], unit="tokens/s")
    first = record.cases[0]
    first = replace(first, measures={**first.measures,
                                     "accuracy": MeasureResult(Measure("accuracy", "1", Direction.HIGHER), (0.9375,)),
                                     "throughput": MeasureResult(tokens, (4.0e5, 4.2e5, 4.1e5))})
    text = get_exporter("html").render(replace(record, run=run, cases=(first, *record.cases[1:])), {})
    _parse(text)
    start = text.index('<table id="cases" class="run-cases">')
    table = text[start:text.index("</table>", start)]
    assert ">accuracy</button></th>" in table and ">Throughput (tokens/s)</button></th>" in table
    first_row = re.findall(r"<tr>.*?</tr>", table[table.index("<tbody>"):], flags=re.S)[0]
    assert '<td class="num" data-sort="0.9375">0.9375</td>' in first_row
    assert '<td class="num" data-sort="400000">400000</td>' in first_row  # unit in the header, not the cell


def test_the_run_badge_follows_the_exit_code() -> None:
    from calibrax.core import CaseStatus, RunStatus

    record = make_record()
    ran = tuple(c for c in record.cases if c.status is CaseStatus.OK)
    regressed = replace(record, run=replace(record.run, status=RunStatus.OK), cases=ran)
    lead = re.search(r'<p class="lead">(.*?)</p>', get_exporter("html").render(regressed, {}), flags=re.S)
    assert lead and 'class="badge run-failed"' in lead.group(1) and "1 regressed" in lead.group(1)
    passing = replace(regressed, verdicts=tuple(v for v in record.verdicts if v.kind.value != "regressed"))
    lead = re.search(r'<p class="lead">(.*?)</p>', get_exporter("html").render(passing, {}), flags=re.S)
    assert lead and 'class="badge run-ok"' in lead.group(1)


_STRIP_CASES = [
    ([1e-3 * (1 + (i * 37 % 11) / 100) for i in range(50)], [1.1e-3 * (1 + (i * 7 % 5) / 50) for i in range(50)]),
    ([1e-3, float("nan"), 2e-3, float("inf")], [3e-3, float("-inf")]),
    ([2e-3, 1e-3], []),
    ([], [1e-3, 2e-3]),
    ([float("nan")], [float("nan")]),
    ([5.0] * 7, [5.0] * 3),
    ([1e-3 * (1 + (i % 101) / 1000) for i in range(1500)], [1e-3 * (1 + (i % 13) / 100) for i in range(601)]),
]


@pytest.mark.parametrize(("samples", "baseline"), _STRIP_CASES)
def test_strips_of_a_whole_run_at_once_equal_each_strip_drawn_alone(samples: list[float], baseline: list[float]) -> None:
    domain = shared_domain(samples, baseline) if baseline else None
    alone = (strip_data(samples, "s", domain) if samples else None,
             strip_data(baseline, "s", domain) if baseline else None)
    assert strip_pairs([(samples, baseline, "s")]) == [alone]
    assert strip_pairs([(samples, baseline, "s")] * 3)[2] == alone  # dots are sliced from one encoding


def test_positions_encode_as_each_fraction_rounded_to_its_level() -> None:
    def level(f: float) -> int:  # one fraction at a time, the reference of the vectorised encoding
        if 0.0 < f < 1.0:
            return min(LEVELS - 1, int(f * (LEVELS - 1) + 0.5))
        return LEVELS - 1 if f >= 1.0 else 0
    fractions = [i / 8191 for i in range(-20, 8212)] + [float("nan"), float("inf"), -float("inf"), 1e-300, 0.99993]
    assert [round(f * (LEVELS - 1)) for f in decode_positions(encode_positions(fractions))] == [level(f) for f in fractions]


@pytest.mark.parametrize("value", ["ok", "<b>\"x\"&'y'", "a" + chr(27) + "[31m" + chr(0), 3, None])
def test_the_python_badge_writes_what_the_template_macro_wrote(value: object, tmp_path: Path) -> None:
    (tmp_path / "old.html.j2").write_text('{% macro badge(group, value) %}<span class="badge {{ group }}-{{ value }}">'
                                          '{{ value }}</span>{% endmacro %}{{ badge(group, value) }}')
    (tmp_path / "new.html.j2").write_text('{% from "_macros.html.j2" import badge %}{{ badge(group, value) }}')
    old = render_template("old.html.j2", tmp_path, group="status", value=value)
    assert render_template("new.html.j2", tmp_path, group="status", value=value) == old == str(badge_span("status", value))


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_the_report_renders_and_left_as_it_was(enabled: bool,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    during: list[bool] = []
    context = html_module.html_context
    monkeypatch.setattr(html_module, "html_context", lambda *a, **k: during.append(gc.isenabled()) or context(*a, **k))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        get_exporter("html").render(make_record(), {})
        assert during == [False] and gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
