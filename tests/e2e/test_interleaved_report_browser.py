"""The HTML report of a run checked by an interleaved gate, opened in headless Chromium.

The gate is built through the library with real timings (tests/interleaved_records.py): the
page must draw both sides' trial values on one axis, say the verdict in its header badge,
and mark the earlier gate's baseline trial values apart in the history chart.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from interleaved_records import interleaved_store

from calibrax.exporters import export_report
from calibrax.storage import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gate_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[Any]]:
    """The run report as the run's export writes it (its verdicts name the linked run), with the
    trial values and verdicts stored for the last candidate."""
    folder = tmp_path_factory.mktemp("interleaved")
    candidate, linked = interleaved_store(folder / "calibrax.db")
    with Store.open(folder / "calibrax.db") as store:
        verdicts = store.load_verdicts(candidate)
        record = replace(store.load_run(candidate), verdicts=tuple(verdicts),
                         baseline={"name": "main", "run_id": linked})
        trials = list(store.load_trials(candidate))
        outcome = export_report(store, record, ["html"], folder / "reports", {})
    assert outcome.failed == {}
    assert outcome.entry is not None
    return outcome.entry, linked, [verdicts, trials]


def test_both_sides_trial_values_are_drawn_in_trial_order_beside_the_verdict(
        browser: Any, gate_report: tuple[Path, str, list[Any]]) -> None:
    page_path, linked, (verdicts, trials) = gate_report
    [verdict] = verdicts
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri(), wait_until="load")
        assert errors == []
        chart = page.locator("article.case svg.plot.trials")
        assert chart.count() == 1
        baseline_marks = chart.locator("g.marks circle.mark.trial-a")
        candidate_marks = chart.locator("g.marks rect.mark.trial-b")
        assert baseline_marks.count() == sum(1 for t in trials if t.arm == "A") >= 6
        assert candidate_marks.count() == sum(1 for t in trials if t.arm == "B") >= 6
        # trial order: the first ABBA block puts baseline, candidate, candidate, baseline left to right
        xs = sorted([(float(m.get_attribute("cx")), "A") for m in baseline_marks.all()]
                    + [(float(m.get_attribute("x")) + 3, "B") for m in candidate_marks.all()])
        assert "".join(arm for _, arm in xs)[:4] == "ABBA"
        assert chart.locator(".legend text").all_text_contents() == [
            "baseline main (5555555555)", "candidate (this run)"]
        label = page.locator("article.case p.chart-label", has_text="Interleaved gate").text_content() or ""
        assert linked in label and f"verdict {verdict.kind.value}" in label
        assert "each side's best round per trial" in label  # what the gate judged (ci.trial_statistic)
        header_badge = page.locator("header p.lead .badge").first.text_content()
        case_badge = page.locator("article.case h3 .badge.verdict-" + verdict.kind.value)
        assert case_badge.count() == 1
        assert verdict.kind.value == "regressed"  # the candidate does twice the work
        assert header_badge == "1 regressed"
        assert page.locator("article.case svg.chart.baseline").count() == 0  # no mixed-method strip
    finally:
        context.close()


def test_the_history_marks_the_earlier_gates_trial_values_with_their_own_legend(
        browser: Any, gate_report: tuple[Path, str, list[Any]]) -> None:
    page_path = gate_report[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(page_path.as_uri(), wait_until="load")
        history = page.locator("article.case svg.plot.history")
        assert history.count() == 1
        assert history.locator("g.marks circle.mark").count() == 3  # r1-gate, r2-plain, this run
        assert history.locator("g.marks path.mark.other").count() == 1  # r1-gate's linked baseline run
        assert history.locator(".legend text").all_text_contents() == [
            "run samples (calibrax-run)", "interleaved gate: baseline trial values"]
    finally:
        context.close()
