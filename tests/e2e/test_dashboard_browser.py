"""The published dashboard opened from file:// in headless Chromium through Playwright."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_store import ACCEPT_AT, SPIKE_AT, STEP_AT, build, commit, run_id

from calibrax.dashboard import publish

pytestmark = pytest.mark.slow

COMMIT_URL = "https://example.org/repo/commit/{sha}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard")
    with build(folder / "calibrax.db") as store:
        publish(store, folder / "site", commit_url=COMMIT_URL)
    return folder / "site"


class _Watched:
    """A page with its console errors, page errors and requests recorded, and its load time."""

    def __init__(self, browser: Any, url: str) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url, wait_until="load")
        self.load_ms = float(self.page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
        print(f"\n{url.rsplit('/', 1)[-1].split('#')[0]}: loaded in {self.load_ms:.0f} ms")

    def view(self) -> dict[str, Any]:
        return dict(self.page.evaluate("window.CALIBRAX_VIEW"))


@pytest.fixture
def opened(browser: Any) -> Iterator[list[_Watched]]:
    pages: list[_Watched] = []
    yield pages
    for page in pages:
        page.context.close()


def _open(browser: Any, opened: list[_Watched], path: Path, hash_: str = "") -> _Watched:
    page = _Watched(browser, path.as_uri() + hash_)
    opened.append(page)
    return page


def _only_local(page: _Watched, site: Path) -> None:
    assert page.errors == []
    assert page.requests and all(url.startswith(site.as_uri()) for url in page.requests), page.requests


def test_index_lists_every_case_without_errors_or_network(browser: Any, opened: list[_Watched], site: Path) -> None:
    page = _open(browser, opened, site / "index.html")
    rows = page.page.locator("#cases tbody tr")
    assert rows.count() == 7
    assert page.page.locator("#cases svg.sparkline polyline").count() == 7
    assert page.page.locator("#cases a.commit").first.get_attribute("href", timeout=1000).startswith(
        "https://example.org/repo/commit/")
    hardware = page.page.locator("#hardware option").all_inner_texts()
    page.page.select_option("#hardware", hardware[1])
    assert 0 < rows.count() < 7
    _only_local(page, site)


def _benchmark(site: Path, name: str) -> Path:
    [path] = site.glob(f"b/{name}-*.html")
    return path


def _longest(page: _Watched, params: str) -> str:
    """The case's URL hash on the hardware with most runs (the points in the page's base file too)."""
    hw = page.page.evaluate(
        """(key) => { const base = (window.CALIBRAX_BASE || {}).series || {};
                     const n = s => s.m.length + (base[s.p + "\\u0000" + CALIBRAX_PAGE.hardware[s.h]] || {m: []}).m.length;
                     const s = CALIBRAX_PAGE.series.filter(s => s.p === key).sort((a, b) => n(b) - n(a));
                     return CALIBRAX_PAGE.hardware[s[0].h]; }""", params)
    return "#" + json.dumps({"p": params, "h": hw})


def test_selectors_change_the_chart_and_offer_only_existing_combinations(browser: Any, opened: list[_Watched],
                                                                         site: Path) -> None:
    page = _open(browser, opened, _benchmark(site, "matmul"))
    page.page.select_option('select[data-param="dtype"]', '"float32"')
    before, line = page.view(), page.page.locator("#chart polyline.line").get_attribute("points")
    other = "128" if json.loads(before["params"])["n"] == 64 else "64"
    page.page.select_option('select[data-param="n"]', other)
    after = page.view()
    assert json.loads(after["params"]) == {"dtype": "float32", "n": int(other)}
    assert page.page.locator("#chart polyline.line").get_attribute("points") != line
    page.page.select_option('select[data-param="n"]', "128")
    line = page.page.locator("#chart polyline.line").get_attribute("points")
    page.page.select_option('select[data-param="dtype"]', '"bfloat16"')
    assert json.loads(page.view()["params"]) == {"dtype": "bfloat16", "n": 128}
    assert page.page.locator("#hw option:disabled").count() == 1  # bfloat16 was measured on one hardware only
    page.page.select_option('select[data-param="n"]', "128")
    assert page.page.locator('select[data-param="n"] option:disabled').all_inner_texts() == ["64"]
    page.page.check("#log")
    page.page.select_option("#xmode", "date")
    assert page.page.locator("#chart polyline.line").get_attribute("points") != line
    _only_local(page, site)


def test_a_changepoint_links_to_its_run_and_commit(browser: Any, opened: list[_Watched], site: Path) -> None:
    page = _open(browser, opened, _benchmark(site, "matmul"))
    hash_ = _longest(page, '{"dtype": "float32", "n": 64}')
    page = _open(browser, opened, _benchmark(site, "matmul"), hash_)
    [cp_run] = page.view()["changepoints"]
    i = int(cp_run.split("-")[1])
    assert abs(i - STEP_AT) <= 1
    marker = page.page.locator("#chart a.cp")
    assert marker.count() == 1 and marker.get_attribute("data-run") == cp_run
    assert marker.get_attribute("href") == f"../../reports/{cp_run}/index.html"
    assert page.page.locator("#changepoints a.cp-commit").get_attribute("href") == COMMIT_URL.format(sha=commit(i))
    assert page.page.locator("#changepoints a.cp-run").get_attribute("href") == f"../../reports/{cp_run}/index.html"
    page.page.locator("#chart rect").click(position={"x": 5, "y": 50})
    assert page.page.locator("#point a.point-run").inner_text() == run_id(0)
    _only_local(page, site)


def test_an_excluded_run_is_not_in_the_chart(browser: Any, opened: list[_Watched], site: Path) -> None:
    page = _open(browser, opened, _benchmark(site, "matmul"))
    page = _open(browser, opened, _benchmark(site, "matmul"), _longest(page, '{"dtype": "float32", "n": 128}'))
    drawn = page.view()["runs"]
    assert run_id(SPIKE_AT) not in drawn and run_id(SPIKE_AT - 1) in drawn
    assert "noisy neighbour" in page.page.locator("#notes").inner_text()
    _only_local(page, site)


def test_an_accepted_shift_restarts_the_segments(browser: Any, opened: list[_Watched], site: Path) -> None:
    page = _open(browser, opened, _benchmark(site, "conv"))
    page = _open(browser, opened, _benchmark(site, "conv"), _longest(page, '{"k": 3}'))
    view = page.view()
    assert view["changepoints"] == []
    assert view["segments"] == [[run_id(0), "start"], [run_id(ACCEPT_AT), "accept"]]
    assert page.page.locator("#chart line.accepted").count() == 1
    assert page.page.locator("#chart line.seg").count() == 2
    _only_local(page, site)


def test_regressions_page_lists_the_step(browser: Any, opened: list[_Watched], site: Path) -> None:
    page = _open(browser, opened, site / "regressions.html")
    rows = page.page.locator("#regressions tbody tr")
    assert rows.count() >= 1 and "matmul" in rows.first.inner_text()
    _only_local(page, site)
