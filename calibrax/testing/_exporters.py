"""``ExporterConformance``: the checks every exporter passes (see :mod:`calibrax.testing`)."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from calibrax.core import ExporterError, RunRecord
from calibrax.exporters import EXPORTERS, NEEDS, Exporter, ReportInput, export_all, get_exporter
from calibrax.testing._records import HOSTILE, hostile_record, hostile_report

__all__ = ["ExporterConformance"]

_RAW_SCRIPT = "<script>alert(1)</script>"


class ExporterConformance:
    """Subclass it and set ``exporter`` to your exporter's registry name (or an instance).

    Attributes:
        exporter: the exporter under test: a registry name, or an :class:`Exporter`.
        deterministic: False for an exporter whose file holds ids that a remote service makes
            (an experiment tracker's run id); its output is then not compared between renders.
    """

    exporter: ClassVar[str | Exporter] = ""
    deterministic: ClassVar[bool] = True

    @pytest.fixture(autouse=True)
    def _sandbox(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """A scratch folder as the current folder, offline trackers, no store to open, and an
        exporter given as an instance registered for the test."""
        monkeypatch.chdir(tmp_path)
        home = tmp_path / "home"
        home.mkdir()
        for var, value in (("HOME", home), ("WANDB_DIR", tmp_path), ("WANDB_CACHE_DIR", home / "cache"),
                           ("WANDB_DATA_DIR", home / "data"), ("WANDB_CONFIG_DIR", home / "config"),
                           ("WANDB_MODE", "offline"), ("WANDB_SILENT", "true"),
                           ("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")):
            monkeypatch.setenv(var, str(value))
        monkeypatch.delenv("WANDB_API_KEY", raising=False)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("An exporter opened the store; it must render its ReportInput only.")

        from calibrax.storage import Store

        monkeypatch.setattr(Store, "open", classmethod(refuse))
        monkeypatch.setattr(Store, "__init__", refuse)
        added = not isinstance(self.exporter, str) and self.exporter.name not in EXPORTERS
        if added:
            EXPORTERS.register(self.subject().name, self.subject())
        yield
        if added:
            EXPORTERS.unregister(self.subject().name)

    def subject(self) -> Exporter:
        """The exporter under test (the registry's when ``exporter`` is a name)."""
        if isinstance(self.exporter, str):
            assert self.exporter, f"{type(self).__name__} must set exporter = '<registry name>'"
            return get_exporter(self.exporter)
        return self.exporter

    def render(self, report: ReportInput | RunRecord, settings: Any = None, folder: Path | None = None) -> str:
        """Render, skipping the test when an optional package the exporter needs is missing."""
        exporter = self.subject()
        try:
            return exporter.render(report, settings if settings is not None else exporter.settings_type(), folder)
        except ExporterError as exc:
            if "pip install calibrax[" in str(exc):
                pytest.skip(str(exc))
            raise

    def test_declarations_are_valid(self) -> None:
        exporter = self.subject()
        assert isinstance(exporter, Exporter), "it must follow calibrax.exporters.Exporter"
        assert isinstance(exporter.name, str) and exporter.name.isidentifier(), exporter.name
        if isinstance(self.exporter, str):
            assert exporter.name == self.exporter and self.exporter in EXPORTERS
        assert exporter.filename and Path(exporter.filename).name == exporter.filename, exporter.filename
        assert exporter.output in ("file", "folder"), exporter.output
        assert set(exporter.needs) <= NEEDS, set(exporter.needs) - NEEDS
        assert isinstance(exporter.entry, bool) and isinstance(exporter.renders_sweeps, bool)

    def test_settings_dataclass_defaults_render(self) -> None:
        exporter = self.subject()
        kind = exporter.settings_type
        if kind is not dict:
            assert dataclasses.is_dataclass(kind), f"settings_type must be a dataclass, got {kind!r}"
            assert not any(f.name == "_target_" for f in dataclasses.fields(kind)), "settings are not instantiated"
        assert self.render(hostile_report(), kind()).strip()

    def test_writes_what_it_declares_and_never_opens_the_store(self, tmp_path: Path) -> None:
        exporter = self.subject()
        out = tmp_path / "out"
        outcome = export_all(hostile_report(), [exporter.name], out, {exporter.name: exporter.settings_type()})
        if exporter.name in outcome.failed and "pip install calibrax[" in outcome.failed[exporter.name]:
            pytest.skip(outcome.failed[exporter.name])
        assert outcome.failed == {}, outcome.failed
        assert outcome.written == {exporter.name: out / exporter.filename}
        assert outcome.entry == (out / exporter.filename if exporter.entry else None)
        made = {p.name for p in out.iterdir()}
        if exporter.output == "file":
            assert made == {exporter.filename}, f"a file exporter writes its file only, wrote {sorted(made)}"
        else:
            folders = [p for p in out.iterdir() if p.is_dir()]
            assert folders and any(any(f.iterdir()) for f in folders), "a folder exporter writes a folder of files"

    def test_hostile_names_stay_text(self) -> None:
        text = self.render(hostile_report())
        assert text.strip()
        suffix = Path(self.subject().filename).suffix
        if suffix in (".html", ".htm", ".svg"):
            assert _RAW_SCRIPT not in text, "a name from the record went into the page unescaped"
        elif suffix == ".json":
            json.loads(text)
        elif suffix == ".xml":
            root = ET.fromstring(text)
            found = " ".join([*(el.text or "" for el in root.iter()), *(v for el in root.iter() for v in el.attrib.values())])
            assert HOSTILE in found, "a name from the record did not come back from the XML as it was"

    def test_output_is_deterministic(self, tmp_path: Path) -> None:
        if not self.deterministic:
            pytest.skip("this exporter's file holds ids made elsewhere (deterministic = False)")
        folders = [tmp_path / "a", tmp_path / "b"]
        texts = [self.render(hostile_report(), None, folder) for folder in folders]
        assert texts[0].replace(str(folders[0]), "") == texts[1].replace(str(folders[1]), "")
        if self.subject().output == "folder":
            names = [sorted(str(p.relative_to(f)) for p in f.rglob("*")) for f in folders]
            assert names[0] == names[1] and names[0], names

    def test_renders_without_the_stored_parts(self) -> None:
        assert self.render(ReportInput(hostile_record())).strip()
        assert self.render(hostile_record(), {}).strip(), "a bare record and mapped settings render too"

    def test_sweeps_render_when_declared(self, tmp_path: Path) -> None:
        exporter = self.subject()
        if not exporter.renders_sweeps:
            with pytest.raises(ExporterError):
                exporter.render_sweep("sweep-1", [hostile_record()])
            return
        members = [hostile_record("job-0"), hostile_record("job-1", 2.0)]
        if exporter.output == "folder":  # its files go into the folder it is given; it returns the receipt
            folder = tmp_path / "sweep"
            try:
                receipt = exporter.render_sweep(HOSTILE, members, None, None, folder)
            except ExporterError as exc:
                if "pip install calibrax[" in str(exc):
                    pytest.skip(str(exc))
                raise
            assert receipt.strip() and any(p.is_file() for p in folder.rglob("*")), "a folder exporter writes files"
            assert not (Path.cwd() / exporter.filename).exists(), "it writes into the folder given, not here"
            return
        page = exporter.render_sweep(HOSTILE, members)
        assert "job-0" in page and "job-1" in page
        assert _RAW_SCRIPT not in page, "a name from the records went into the sweep page unescaped"
