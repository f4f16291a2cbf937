"""Tests of the HTML report's history, roofline, Pareto and scaling charts, its alerts and
validation sections, the sweep page, and the data the charts read from the store."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from report_records import (
    ESCAPED_SCRIPT,
    SCRIPT,
    SIZES,
    chart_data,
    make_record,
    measure_result,
    report_data,
    rich_case,
    rich_record,
    step_history,
)
from test_exporters import _parse

from calibrax.analysis import screen_histories
from calibrax.core import (
    ExporterError,
    RunRecord,
    RunStatus,
    ValidationEntry,
)
from calibrax.exporters import HtmlSettings, collect_report_data, get_exporter, render_sweep_html
from calibrax.exporters._charts import pareto_data, roofline_data, scaling_series
from calibrax.exporters._history import HistoryChart, history_chart
from calibrax.exporters._page_charts import LEVELS, decode_positions, encode_positions, page_json, strip_data
from calibrax.storage import Store


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start: page.index("</section>", start)] if "<section" in page[start - 20: start] else \
        page[start: page.index("</figure>", start)]


@pytest.fixture(scope="module")
def page() -> str:
    record = rich_record()
    return get_exporter("html").render(record, {"report_data": report_data(record)})


def test_page_is_well_formed_and_every_hostile_text_stays_text(page: str) -> None:
    parsed = _parse(page)
    assert len(parsed.scripts) == 1 and len(parsed.data_blocks) == 1
    assert SCRIPT not in page and "</script><" not in parsed.data_blocks[0]
    for element_id in ("alerts", "validation", "roofline", "pareto"):
        assert element_id in parsed.ids
    assert ESCAPED_SCRIPT in _section(page, "alerts")
    assert ESCAPED_SCRIPT in _section(page, "validation")
    assert "<title>Scaling of &lt;script&gt;alert(1)&lt;/script&gt;: time over n" in page


def test_history_chart_marks_the_changepoint_of_a_step() -> None:
    points = step_history(1e-3)
    chart = history_chart(points, "s", HtmlSettings())
    assert chart is not None and [c.index for c in chart.changepoints] == [8]
    assert chart.changepoints[0].relative_change == pytest.approx(0.3, abs=0.03)
    [rule] = [s for s in chart.plot.segments if s.kind == "changepoint"]
    xs = [m.x for m in chart.plot.marks]
    assert xs[7] < rule.x1 == rule.x2 < xs[8]
    [label] = chart.plot.labels
    assert re.fullmatch(r"\+(29|30|31)\.\d%", label.text)
    assert len(chart.plot.marks) == 16 and chart.plot.marks[-1].kind == "mark current"
    flat = history_chart(step_history(1e-3, at=99), "s", HtmlSettings())
    assert flat is not None and flat.changepoints == () and not flat.plot.segments


def test_history_in_the_report_has_one_chart_per_case_and_the_step_marked(page: str) -> None:
    cases = chart_data(page)["cases"]
    histories = [cases[key]["h"] for key in sorted(cases, key=lambda k: int(k.split("-")[1])) if "h" in cases[key]]
    assert len(histories) == 8 and page.count('<div class="drawn" data-chart="h">') == 8
    values, _, x_ticks, changepoints, current, description = histories[0]
    assert len(changepoints) == 1 and "1 changepoint" in description
    [(index, change, title)] = changepoints
    assert index == 8 and re.fullmatch(r"\+(29|30|31)\.\d%", change)
    assert title.startswith(f"Changepoint at run {SCRIPT}-8 (commit ")
    assert all(h[3] == [] and "no changepoint" in h[5] for h in histories[1:])
    assert all(len(decode_positions(h[0])) == 16 for h in histories)
    # the step up shows: every run after the shift sits above every run before it
    ys = decode_positions(values)
    assert min(ys[8:]) > max(ys[:8]) and x_ticks[-1] == 15 and current.startswith(f"run {SCRIPT}-15")


def test_screen_histories_flags_steps_and_skips_short_or_flat_ones() -> None:
    step = [p.value for p in step_history(1.0)]
    flat = [p.value for p in step_history(1.0, at=99)]
    assert screen_histories([step, flat, step[:6], [1.0, -1.0] * 6]) == [True, False, False, False]


def test_roofline_places_cases_under_the_configured_roof(page: str) -> None:
    data, note = roofline_data([rich_record()])
    assert data is not None and note == ""
    assert (data.peak_flops, data.bandwidth, data.source) == (1e12, 1e10, "hardware config test_chip")
    assert len(data.points) == 8 and data.ridge == 100.0
    section = _section(page, "roofline")
    assert section.count("<circle") == 8
    assert 'class="roof memory"' in section and 'class="roof compute"' in section
    assert "peak 1 TFLOP/s (hardware config test_chip)" in section


def test_per_dtype_peaks_in_the_config_draw_the_fp32_roof_and_say_so() -> None:
    import dataclasses

    record = rich_record()
    hardware = {"name": "test_chip", "peak_flops": {"bf16": 8e12, "fp32": 2e12}, "bandwidth": 1e10}
    run = dataclasses.replace(record.run, config={**record.run.config, "hardware": hardware})
    data, _ = roofline_data([dataclasses.replace(record, run=run)])
    assert data is not None and (data.peak_flops, data.source) == (2e12, "hardware config test_chip, fp32 peak")
    only_bf16 = {**hardware, "peak_flops": {"bf16": 8e12}}
    run = dataclasses.replace(record.run, config={**record.run.config, "hardware": only_bf16})
    data, _ = roofline_data([dataclasses.replace(record, run=run)])
    assert data is not None and data.source.endswith("bf16 peak")


def test_roofline_is_left_out_with_a_note_without_its_measures() -> None:
    page = get_exporter("html").render(make_record(), {})
    section = _section(page, "roofline")
    assert "<svg" not in section and "No case has arithmetic_intensity and achieved_flops" in section


def test_pareto_highlights_the_front() -> None:
    record = rich_record()
    data, _ = pareto_data([record])
    assert data is not None and data.measures == ("time", "peak_rss")
    # Both grow with n, so only the smallest cases can be on the front.
    front = [p.label for p in data.analysis.first_front]
    assert front and all("(n=64," in label for label in front)
    page = get_exporter("html").render(record, {"pareto": ["time", "peak_rss"]})
    section = _section(page, "pareto")
    assert section.count('class="mark front"') == len(front) and section.count('class="mark"') == 8 - len(front)
    assert '<polyline class="front"' in section
    assert "(on the Pareto front)" in section and SCRIPT not in section
    with pytest.raises(ExporterError, match="pareto must name two measures"):
        get_exporter("html").render(record, {"pareto": "time"})


def test_scaling_chart_draws_points_error_bars_and_the_fitted_law(page: str) -> None:
    series = scaling_series([rich_record()], param="n")
    assert [s.benchmark for s in series] == ["matmul", SCRIPT]
    fit = series[0].fit
    assert fit is not None and fit["b"].value == pytest.approx(2.0, abs=0.05)
    charts = re.findall(r'<figure class="scaling">.*?</figure>', page, flags=re.S)
    assert len(charts) == 2
    assert charts[0].count("<circle") == 4 and charts[0].count('class="errorbar"') == 4
    assert '<polyline class="fit"' in charts[0] and "time ∝ n^2" in charts[0]


def test_alerts_and_validation_sections(page: str) -> None:
    alerts = _section(page, "alerts")
    assert alerts.index("severity-critical") < alerts.index("severity-warning")
    assert "run <code>older-run</code>" in alerts and "2 ms" in alerts
    validation = _section(page, "validation")
    assert "1 of 2 checks passed; a failed check fails the run." in validation
    assert validation.index("check-failed") < validation.index("check-passed")
    without = get_exporter("html").render(make_record(), {})
    assert "made without the store" in _section(without, "alerts")
    with pytest.raises(ExporterError, match="report_data setting must be a ReportData"):
        get_exporter("html").render(make_record(), {"report_data": {"history": {}}})


def test_collect_report_data_reads_history_alerts_and_validation(tmp_path: Path) -> None:
    from factories import time_case

    with Store.open(tmp_path / "calibrax.db") as store:
        for k in range(12):
            run_id = f"r{k:02d}"
            record = rich_record(run_id)
            store.begin_run(replace(record.run, started_at=f"2026-11-26T00:00:{k:02d}+00:00",
                                    status=RunStatus.RUNNING))
            store.add_case(run_id, time_case("matmul", {"n": 64, "label": "plain"}, 1e-3 * (1.5 if k >= 6 else 1.0)))
            store.finish_run(run_id, RunStatus.OK, f"2026-11-26T00:01:{k:02d}+00:00")
        other_hw = replace(rich_record("elsewhere").run, hardware=None, started_at="2026-11-26T00:00:03+00:00",
                           status=RunStatus.RUNNING)
        store.begin_run(other_hw)
        store.add_case("elsewhere", time_case("matmul", {"n": 64, "label": "plain"}, 9.0))
        store.add_alerts(list(report_data(rich_record("r10")).alerts))
        store.add_validation("r10", [ValidationEntry("accuracy", "x", True, "fine")], gate=False)
        record = store.load_run("r10")
        data = collect_report_data(store, record, history_runs=8)
    [(key, points)] = data.history.items()
    assert key == record.cases[0].key
    assert [p.run_id for p in points] == [f"r{k:02d}" for k in range(3, 11)]  # r11 came later; elsewhere differs
    assert [a.id for a in data.alerts] == ["a1", "a2"]  # its own alert, then one about its benchmark
    assert [e.name for e in data.validation] == ["x"] and data.validation_gate is False
    with pytest.raises(ExporterError, match="history_runs"):
        collect_report_data(None, record, history_runs=0)


def _member(run_id: str, n: int, overrides: tuple[str, ...]) -> RunRecord:
    base = rich_record(run_id)
    return RunRecord(replace(base.run, sweep_id="sweep-1", overrides=overrides, status=RunStatus.OK),
                     (rich_case("matmul", n, n), rich_case("softmax", 8, n)))


def test_sweep_page_has_runs_comparison_cases_and_charts() -> None:
    members = [_member(f"m{n}-{SCRIPT}", n, (f"params.matmul.n={n}", "profile=quick")) for n in SIZES]
    page = render_sweep_html("sweep-1", members, {"n_resamples": 199})
    parsed = _parse(page)
    assert parsed.tags.count("script") == 1 and SCRIPT not in page
    runs = _section(page, "runs")
    assert runs.count("<tr>") == 5 and "<code>params.matmul.n</code>" in runs and "profile" not in runs.split("</thead>")[0]
    comparison = _section(page, "comparison")
    assert comparison.count("<tr>") == 2 and "softmax" in comparison and "reference" in comparison
    assert page.count('<figure class="scaling">') == 1 and "matmul: time over n" in page
    assert page.count('<tr>\n<td><code>m') == 8  # every case of every member in the cases table
    assert "swept: params.matmul.n" in page


def test_sweep_page_needs_a_member() -> None:
    with pytest.raises(ExporterError, match="no member run"):
        render_sweep_html("empty", [])


def test_large_hostile_settings_are_rejected_with_their_name() -> None:
    bad: dict[str, Any] = {"changepoint_alpha": 2}
    with pytest.raises(ExporterError, match="changepoint_alpha"):
        get_exporter("html").render(make_record(), bad)


def test_history_chart_needs_two_runs() -> None:
    with pytest.raises(ExporterError, match="A history chart needs two or more runs, got 1"):
        HistoryChart(step_history(1e-3, n=1), (), "s")


def test_positions_round_trip_within_a_level_and_clip_to_the_axis() -> None:
    fractions = [i / 997 for i in range(998)]
    decoded = decode_positions(encode_positions(fractions))
    assert decoded == pytest.approx(fractions, abs=0.5 / (LEVELS - 1))
    assert decode_positions(encode_positions([-0.2, 1.7, float("nan")])) == [0.0, 1.0, 0.0]


def test_a_case_with_many_samples_draws_600_and_says_so() -> None:
    samples = [1e-3 * (1 + (i % 101) / 1000) for i in range(5000)]
    data = strip_data(samples)
    assert data is not None and (data.shown, data.total) == (600, 5000)
    assert len(decode_positions(data.dots)) == 600 and data.description.startswith("5000 samples; median ")
    record = make_record()
    case = record.cases[0]
    time = measure_result("time", samples)
    many = replace(case, measures={**case.measures, "time": time})
    page = get_exporter("html").render(replace(record, cases=(many, *record.cases[1:])), {})
    assert "Showing 600 of 5000 samples." in page
    assert len(decode_positions(chart_data(page)["cases"]["case-0"]["s"][0])) == 600


def test_page_json_cannot_end_its_script_block() -> None:
    text = page_json({"case-0": {"s": ["AA", [0, 0, 0], [[0, "</script><b>x</b>&amp;"]], "<!--"]}}, "time")
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["cases"]["case-0"]["s"][2][0][1] == "</script><b>x</b>&amp;"
