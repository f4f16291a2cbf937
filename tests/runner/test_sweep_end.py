"""The end of a sweep writes its HTML page when html is among the exporters; a page that cannot
be written is a warning and never the sweep's exit code."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_run

from calibrax.runner import app
from calibrax.storage import Store


@pytest.fixture
def state() -> Iterator[app._State]:
    saved = app._STATE
    app._STATE = app._State()
    yield app._STATE
    app._STATE = saved


def test_the_sweeps_page_is_written_under_the_report_folder(tmp_path: Path, state: app._State) -> None:
    with Store.open(tmp_path / "calibrax.db") as store:
        for i, run_id in enumerate(("job-0", "job-1")):
            add_run(store, run_id, 1e-3 * (i + 1), f"0{i}", sweep_id="nightly/1")
        state.sweep_id, state.report_root = "nightly/1", tmp_path / "reports"
        page = app._sweep_page(store)
    assert page == tmp_path / "reports" / "sweep-nightly_1" / "index.html"
    assert "job-0" in page.read_text(encoding="utf-8") and "job-1" in page.read_text(encoding="utf-8")


def test_without_html_or_without_the_sweep_no_page_and_a_warning(
    tmp_path: Path, state: app._State, caplog: pytest.LogCaptureFixture
) -> None:
    with Store.open(tmp_path / "calibrax.db") as store:
        state.sweep_id = "gone"
        assert app._sweep_page(store) is None  # html not among the exporters: nothing written, nothing said
        state.report_root = tmp_path / "reports"
        with caplog.at_level(logging.WARNING, logger="calibrax"):
            assert app._sweep_page(store) is None
    assert "The sweep report of gone was not written: No sweep 'gone' in the store" in caplog.text
    assert not (tmp_path / "reports").exists()
