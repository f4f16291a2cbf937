"""The exporter protocol: what an exporter declares decides what is read from the store, what is
written, which file is the entry page and who renders a sweep; no exporter is named anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calibrax.core import ExporterError, RunInfo, RunRecord, RunStatus
from calibrax.exporters import (
    EXPORTERS,
    BaseExporter,
    NoSettings,
    ReportInput,
    export_all,
    export_report,
    get_exporter,
    report_input_for,
    sweep_exporter,
)
from calibrax.testing import hostile_record


class _Store:
    """Counts what is read; holds one baseline run."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def load_run(self, run_id: str) -> RunRecord:
        self.calls.append("load_run")
        return RunRecord(RunInfo(run_id, "", RunStatus.OK), ())

    def recent_medians(self, run_id: str, measure: str, limit: int) -> list[tuple[Any, ...]]:
        self.calls.append(f"recent_medians:{measure}:{limit}")
        return []

    def load_alerts(self, **kwargs: Any) -> list[Any]:
        self.calls.append("load_alerts")
        return []

    def load_validation(self, run_id: str) -> tuple[list[Any], bool]:
        self.calls.append("load_validation")
        return [], False

    def load_trials(self, run_id: str) -> tuple[Any, ...]:
        self.calls.append("load_trials")
        return ()

    def interleaved_baseline_of(self, run_id: str) -> str | None:
        self.calls.append("interleaved_baseline_of")
        return None

    def interleaved_links(self, run_ids: list[str]) -> dict[str, Any]:
        self.calls.append("interleaved_links")
        return {}


class _Page(BaseExporter[NoSettings]):
    name, filename, entry, needs = "test_page", "page.txt", True, frozenset({"alerts"})

    def render_report(self, report: ReportInput, settings: NoSettings, folder: Path | None = None) -> str:
        return f"alerts read: {report.alerts is not None}\n"


class _Folder(BaseExporter[NoSettings]):
    name, filename, output = "test_folder", "receipt.json", "folder"

    def render_report(self, report: ReportInput, settings: NoSettings, folder: Path | None = None) -> str:
        target = (folder or Path.cwd()) / "parts"
        target.mkdir(parents=True, exist_ok=True)
        (target / "a.txt").write_text(report.run_id, encoding="utf-8")
        return json.dumps({"folder": str(target)})


class _Older:
    """An exporter written for the first protocol: nothing declared, settings as a mapping."""

    name, filename = "test_older", "older.txt"

    def render(self, record: RunRecord, settings: dict[str, Any]) -> str:
        return f"{record.run.id} {settings.get('greeting', 'hi')}"


@pytest.fixture
def plugins() -> Iterator[None]:
    for exporter in (_Page(), _Folder(), _Older()):
        EXPORTERS.register(exporter.name, exporter)
    yield
    for name in ("test_page", "test_folder", "test_older"):
        EXPORTERS.unregister(name)


@pytest.mark.parametrize(("names", "reads"), [
    (["json", "junit", "latex"], []),
    (["markdown"], ["load_validation"]),  # its title agrees with the exit code, gating checks included
    (["figures"], ["load_run"]),
    (["html"], ["load_run", "recent_medians:time:30", "load_alerts", "load_alerts", "load_validation", "load_trials"]),
])
def test_the_store_is_read_only_for_what_the_exporters_need(names: list[str], reads: list[str]) -> None:
    store = _Store()
    report = report_input_for(store, hostile_record(), names)
    assert sorted(store.calls) == sorted(reads)
    assert (report.history is None) == ("html" not in names)


def test_the_history_read_is_the_longest_any_exporter_asks_for() -> None:
    store = _Store()
    report_input_for(store, hostile_record(), ["html"], {"html": {"history_runs": 5, "scaling_measure": "flops"}})
    assert "recent_medians:flops:5" in store.calls


def test_the_entry_file_and_the_folder_output_come_from_declarations(plugins: None, tmp_path: Path) -> None:
    outcome = export_report(_Store(), hostile_record(), ["json", "test_folder", "test_page"], tmp_path)
    assert outcome.failed == {} and outcome.entry == tmp_path / "page.txt"
    assert (tmp_path / "page.txt").read_text(encoding="utf-8") == "alerts read: True\n"
    assert json.loads((tmp_path / "receipt.json").read_text())["folder"] == str(tmp_path / "parts")
    assert (tmp_path / "parts" / "a.txt").is_file()
    assert export_all(hostile_record(), ["json"], tmp_path / "two").entry is None


def test_a_sweep_is_rendered_by_the_first_exporter_that_declares_it(plugins: None) -> None:
    assert sweep_exporter(["test_page", "json", "html"]) is get_exporter("html")
    assert sweep_exporter(["json", "no_such_exporter"]) is None
    with pytest.raises(ExporterError, match="does not render a whole sweep"):
        get_exporter("test_page").render_sweep("s", [hostile_record()])


def test_an_exporter_of_the_first_protocol_still_exports(plugins: None, tmp_path: Path) -> None:
    outcome = export_all(hostile_record(), ["test_older"], tmp_path, {"test_older": {"greeting": "hello"}})
    assert outcome.failed == {}
    assert (tmp_path / "older.txt").read_text(encoding="utf-8").endswith(" hello")


def test_a_report_input_that_cannot_be_read_fails_only_the_exporters_that_need_the_store(tmp_path: Path) -> None:
    outcome = export_report(_Store(), hostile_record(), ["html", "json"], tmp_path, {"html": {"history_runs": 0}})
    assert set(outcome.written) == {"json"} and "history_runs" in outcome.failed["html"]


def test_a_legacy_settings_mapping_folds_into_the_report_input() -> None:
    base = hostile_record("base-run", 0.5)
    page = get_exporter("html").render(hostile_record(), {"baseline": base, "title": "t"})
    assert "base-run" in page
    with pytest.raises(ExporterError, match="baseline setting must be"):
        get_exporter("html").render(hostile_record(), {"baseline": "base-run"})
