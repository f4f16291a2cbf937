"""docs/architecture.md stays true: every file it names exists, every stage entry point is real."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _named_paths() -> list[str]:
    return sorted(set(re.findall(r"`((?:calibrax|tests|conf|docs)/[\w./*-]+)`", DOC.read_text())))


def test_every_file_the_architecture_page_names_exists() -> None:
    named = _named_paths()
    assert len(named) > 25, named  # the page walks the whole run
    missing = [p for p in named if not (ROOT / p).exists() and not any(ROOT.glob(p))]
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_every_entry_point_the_page_names_is_defined() -> None:
    text = DOC.read_text()
    pairs = re.findall(r"`(calibrax/[\w/]+)\.py`, `(\w+)`", text)
    assert len(pairs) >= 6, pairs
    for path, name in pairs:
        module = importlib.import_module(path.replace("/", "."))
        assert hasattr(module, name), f"{path}.py has no {name!r}, which docs/architecture.md names"
