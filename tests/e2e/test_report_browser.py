"""The HTML report of a real run, opened in headless Chromium through Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_cli

pytestmark = pytest.mark.slow

FIXTURE = REPO / "tests" / "fixtures" / "xssproj"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_PARAM = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index.html of a real `calibrax-run profile=quick` in a hostile user project."""
    project = tmp_path_factory.mktemp("browser") / "xssproj"
    shutil.copytree(FIXTURE, project)
    res = run_cli("calibrax-run", "profile=quick", "suite=hostile", "exporters=[html]", cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    pages = list((project / "reports").glob("*/index.html"))
    assert len(pages) == 1, pages
    return pages[0]


@pytest.fixture(scope="module")
def full_report(report: Path) -> Path:
    """The same run rendered again by `calibrax report`, with the store's history, alerts and
    validation, after a second run gave each case a history of two runs."""
    project = report.parents[2]
    res = run_cli("calibrax-run", "profile=quick", "suite=hostile", "exporters=[]", cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    out = run_cli("calibrax", "report", "latest", "--out", "full.html", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    return project / "full.html"


@pytest.fixture(scope="module")
def charts_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with every chart drawn: history with a step, roofline, Pareto, scaling, alerts
    and validation, all with hostile names."""
    from report_records import report_data, rich_record

    from calibrax.exporters import get_exporter

    record = rich_record()
    path = tmp_path_factory.mktemp("charts") / "index.html"
    path.write_text(get_exporter("html").render(record, {"report_data": report_data(record)}), encoding="utf-8")
    return path


class _Watched:
    """A page with every console error, page error, dialog and request it made recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url, wait_until="load")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def watched(browser: Any, report: Path) -> Iterator[_Watched]:
    page = _Watched(browser, report.as_uri())
    yield page
    page.context.close()


def _column(page: Any, index: int, attribute: str | None = None) -> list[str]:
    cells = page.locator(f"#cases tbody tr:not([hidden]) td:nth-child({index})")
    if attribute is None:
        return [t.strip() for t in cells.all_text_contents()]
    return [str(cells.nth(i).get_attribute(attribute)) for i in range(cells.count())]


def test_report_opens_without_errors_or_network(watched: _Watched, report: Path) -> None:
    page = watched.page
    assert page.title().startswith("calibrax")
    assert page.locator("#cases tbody tr").count() == 4
    assert watched.console_errors == []
    assert watched.page_errors == []
    assert watched.dialogs == []
    assert watched.requests == [report.as_uri()]


def test_table_sorts_when_a_header_is_clicked(watched: _Watched) -> None:
    page = watched.page
    header = page.locator("#cases thead th").nth(3)
    assert header.text_content() == "Median"
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = [float(v) for v in _column(page, 4, "data-sort")]
    assert ascending == sorted(ascending) and len(ascending) == 4
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in _column(page, 4, "data-sort")] == sorted(ascending, reverse=True)
    page.locator("#cases thead th").nth(0).locator("button").click()
    names = _column(page, 1)
    assert names == sorted(names, key=str.lower)
    assert watched.console_errors == [] and watched.page_errors == []


def test_filter_hides_rows_that_do_not_match(watched: _Watched) -> None:
    page = watched.page
    page.fill("#filter", "softmax")
    assert _column(page, 1) == ["softmax", "softmax"]
    assert page.locator("#shown").text_content() == "2 of 4 cases shown"
    page.fill("#filter", "")
    assert len(_column(page, 1)) == 4


def test_hostile_names_stay_text(watched: _Watched) -> None:
    page = watched.page
    assert HOSTILE_NAME in _column(page, 1)
    assert any(HOSTILE_PARAM in params for params in _column(page, 2))
    assert page.locator("img").count() == 0
    # the report's own script and its chart data, nothing injected
    assert page.locator("script:not([type])").count() == 1
    assert page.locator('script[type="application/json"]').count() == 1
    assert page.locator("b", has_text="not bold").count() == 0
    assert watched.dialogs == []


def test_screenshot(watched: _Watched, tmp_path: Path) -> None:
    path = tmp_path / "report.png"
    watched.page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 900


@pytest.mark.parametrize("which", ["full_report", "charts_page"])
def test_report_with_history_and_charts_opens_without_errors(browser: Any, which: str,
                                                              request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(which)
    watched = _Watched(browser, path.as_uri())
    try:
        page = watched.page
        assert page.locator("#alerts h2").text_content() == "Alerts"
        assert page.locator("#validation h2").text_content() == "Validation"
        assert page.locator("#charts figure").count() >= 3
        if which == "full_report":
            assert page.locator("svg.plot.history").count() == 4  # two runs of history per case
        else:
            assert page.locator("svg.plot.history line.changepoint").count() == 1
            assert page.locator("#roofline line.roof").count() == 2
            assert page.locator("#pareto circle.front").count() >= 1
            assert page.locator("figure.scaling polyline.fit").count() == 2
            assert page.locator("#alerts td", has_text=HOSTILE_PARAM).count() >= 1
        assert page.locator("script").count() == 2 and page.locator("img").count() == 0
        assert watched.console_errors == [] and watched.page_errors == [] and watched.dialogs == []
        assert watched.requests == [path.as_uri()]
    finally:
        watched.context.close()


def test_script_draws_every_case_chart_from_the_page_data(browser: Any, charts_page: Path) -> None:
    from report_records import chart_data

    cases = chart_data(charts_page.read_text(encoding="utf-8"))["cases"]
    watched = _Watched(browser, charts_page.as_uri())
    try:
        page = watched.page
        assert page.locator("[data-chart]").count() == 0  # every slot was replaced by its chart
        strips = page.locator("article.case svg.chart")
        assert strips.count() == sum("s" in entry for entry in cases.values()) >= 4
        first = page.locator("#case-0")
        assert first.locator("svg.chart .dots circle").count() == len(cases["case-0"]["s"][0]) // 2
        assert first.locator("svg.chart text").all_text_contents() == [t[1] for t in cases["case-0"]["s"][2]]
        assert first.locator("svg.chart rect.box").count() == 1 and first.locator("svg.chart line.median").count() == 1
        histories = page.locator("article.case svg.plot.history")
        assert histories.count() == sum("h" in entry for entry in cases.values()) == 8
        assert first.locator("svg.plot.history .marks circle").count() == 16
        rule = first.locator("svg.plot.history line.changepoint")
        assert rule.count() == 1 and rule.locator("title").text_content() == cases["case-0"]["h"][3][0][2]
        assert HOSTILE_PARAM in str(rule.locator("title").text_content())  # shown as text, never run
        label = str(first.locator("svg.plot.history").get_attribute("aria-label"))
        assert label.endswith("history: " + cases["case-0"]["h"][5])
        assert page.locator("svg.plot.history line.changepoint").count() == 1
        box = first.locator("svg.plot.history").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50  # drawn, not an empty box
        assert watched.console_errors == [] and watched.page_errors == [] and watched.dialogs == []
        assert watched.requests == [charts_page.as_uri()]
    finally:
        watched.context.close()


def test_a_long_report_draws_the_first_cases_at_once_and_the_rest_when_scrolled_to(
        browser: Any, tmp_path: Path) -> None:
    from report_records import make_record, ok_case

    from calibrax.core import RunRecord
    from calibrax.exporters import get_exporter

    record = make_record()
    cases = tuple(ok_case(f"bench_{i}", {"n": i}, 1e-4 * (1 + i % 7), i) for i in range(120))
    path = tmp_path / "long.html"
    path.write_text(get_exporter("html").render(RunRecord(record.run, cases), {}), encoding="utf-8")
    watched = _Watched(browser, path.as_uri())
    try:
        page = watched.page
        assert page.locator("article.case svg.chart").count() == 60  # the first 60 cases
        slot = page.locator('#case-110 [data-chart="s"]')
        box = slot.bounding_box()
        assert box is not None and box["height"] > 50  # an undrawn chart keeps its place
        slot.scroll_into_view_if_needed()
        page.locator("#case-110 svg.chart .dots circle").first.wait_for(timeout=10_000)
        assert page.locator("#case-110 svg.chart .dots circle").count() == 40
        assert watched.console_errors == [] and watched.page_errors == []
        assert watched.requests == [path.as_uri()]
    finally:
        watched.context.close()
