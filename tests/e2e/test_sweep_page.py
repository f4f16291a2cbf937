"""The HTML page of a real sweep (`calibrax report --sweep`), opened in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from test_report_browser import _Watched

pytestmark = pytest.mark.slow


def test_sweep_page_of_a_size_sweep(userproj: Path, browser: Any) -> None:
    res = run_cli("calibrax-run", "-m", "benchmarks=[steady]", "params.steady.size=8,16,32", "profile=quick",
                  "exporters=[html]", cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    [written] = re.findall(r"^Sweep report: (.+)$", res.stdout, flags=re.M)  # the sweep's end renders its page
    assert Path(written).is_file()
    out = run_cli("calibrax", "report", "--sweep", "latest", cwd=userproj)
    assert out.returncode == 0, out.stdout + out.stderr
    page_path = userproj / out.stdout.strip()
    assert page_path.resolve() == Path(written).resolve()
    assert page_path.name == "index.html" and page_path.parent.name.startswith("sweep-")
    text = page_path.read_text(encoding="utf-8")
    runs = text[text.index('id="runs"'): text.index("</section>", text.index('id="runs"'))]
    assert runs.count("<tr>") == 4 and "<code>params.steady.size</code>" in runs
    assert len(re.findall(r'<figure class="scaling">', text)) == 1 and "steady: time over size" in text
    watched = _Watched(browser, page_path.as_uri())
    try:
        page = watched.page
        assert page.locator("#cases tbody tr").count() == 3
        page.locator("#cases thead th").nth(4).locator("button").click()
        medians = [float(v) for v in (page.locator("#cases tbody td:nth-child(5)").nth(i).get_attribute("data-sort")
                                      for i in range(3))]
        assert medians == sorted(medians)
        assert page.locator("figure.scaling svg.plot polyline.fit").count() == 1
        assert watched.console_errors == [] and watched.page_errors == [] and watched.dialogs == []
        assert watched.requests == [page_path.as_uri()]
    finally:
        watched.context.close()
    figures = run_cli("calibrax", "report", "--sweep", "latest", "--format", "figures", "--out", "paper", cwd=userproj)
    assert figures.returncode == 0, figures.stdout + figures.stderr
    assert (userproj / "paper" / "scaling_steady_size_0.pdf").read_bytes().startswith(b"%PDF")
