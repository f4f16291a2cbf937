"""``calibrax import`` and ``calibrax export`` as one call each: find the format, read every run,
store the new ones through :class:`calibrax.storage.Store`, and write a stored run back out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from calibrax.core import NotFoundError, RunStatus
from calibrax.interop._records import ImportedRun, InteropError
from calibrax.interop.asv import export_asv, is_asv_result, read_asv
from calibrax.interop.google_benchmark import is_google_benchmark, read_google_benchmark
from calibrax.interop.pytest_benchmark import export_pytest_benchmark, is_pytest_benchmark, read_pytest_benchmark
from calibrax.storage import Store

__all__ = ["EXPORT_FORMATS", "FORMATS", "ExportReport", "ImportReport", "ImportedEntry", "detect_format",
           "export_run", "import_path", "read_path"]

FORMATS = ("pytest-benchmark", "asv", "google-benchmark")
"""The formats ``calibrax import`` reads."""

EXPORT_FORMATS = ("pytest-benchmark", "asv")
"""The formats ``calibrax export`` writes."""


@dataclass(frozen=True)
class ImportedEntry:
    """One run of an import: its id, whether it was new, and what it holds."""

    run_id: str
    added: bool  # False: an identical run was already stored, nothing was written
    tool: str
    source: str
    started_at: str
    commit: str | None
    cases: int
    failed: int  # cases stored as error or skipped


@dataclass(frozen=True)
class ImportReport:
    """What ``calibrax import`` did.

    Attributes:
        format: the format read.
        entries: one per run found, oldest first.
        baseline: the baseline name set to the newest run, when one was asked for.
    """

    format: str
    entries: tuple[ImportedEntry, ...]
    baseline: str | None = None

    @property
    def added(self) -> list[str]:
        """Ids of the runs stored by this import."""
        return [e.run_id for e in self.entries if e.added]

    def to_dict(self) -> dict[str, Any]:
        """The report as ``calibrax import --json`` prints it."""
        return {"format": self.format, "baseline": self.baseline, "added": self.added,
                "runs": [asdict(e) for e in self.entries]}


def _sniff(path: Path) -> str | None:
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, OSError):
        return None
    for name, test in (("pytest-benchmark", is_pytest_benchmark), ("google-benchmark", is_google_benchmark),
                       ("asv", is_asv_result)):
        if test(data):
            return name
    return None


def detect_format(path: Path) -> str:
    """The format of a file or folder: an asv results folder, a pytest-benchmark folder or file, or
    a Google Benchmark file.

    Raises:
        InteropError: the path is missing or its content is none of them.

    Example:
        detect_format(Path(".benchmarks"))  # 'pytest-benchmark'
    """
    if not path.exists():
        raise InteropError(f"{path} does not exist; pass a benchmark JSON file or a results folder.")
    if path.is_dir():
        if (path / "benchmarks.json").is_file():
            return "asv"
        found = {_sniff(p) for p in sorted(path.rglob("*.json"))[:50]} - {None}
        if found == {"pytest-benchmark"}:
            return "pytest-benchmark"
        raise InteropError(f"{path} is neither an asv results folder (with benchmarks.json) nor a folder of "
                           "pytest-benchmark files; pass --format or the results folder itself.")
    found_format = _sniff(path)
    if found_format is None:
        raise InteropError(f"{path} is not JSON of pytest-benchmark, asv or Google Benchmark; "
                           f"pass --format with one of {', '.join(FORMATS)} if it is.")
    return found_format


def read_path(path: Path, fmt: str = "auto") -> tuple[str, list[ImportedRun]]:
    """Every run in ``path``, oldest first, without storing them.

    Raises:
        InteropError: unknown format, a path that is not of that format.

    Example:
        fmt, runs = read_path(Path("out.json"))
    """
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise InteropError(f"Unknown import format {fmt!r}; expected auto or one of {', '.join(FORMATS)}.")
    if not path.exists():
        raise InteropError(f"{path} does not exist; pass a benchmark JSON file or a results folder.")
    if fmt == "asv":
        return fmt, read_asv(path)
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    reader = read_pytest_benchmark if fmt == "pytest-benchmark" else read_google_benchmark
    runs = [reader(f) for f in files]
    if not runs:
        raise InteropError(f"{path} holds no JSON files to import as {fmt}.")
    return fmt, sorted(runs, key=lambda r: (r.run.started_at, r.origin.source))


def _store(store: Store, imported: ImportedRun) -> bool:
    run = imported.run
    try:
        existing = store.get_run(run.id)
    except NotFoundError:
        existing = None
    if existing is not None and existing.id == run.id:
        if existing.status in (RunStatus.RUNNING, RunStatus.INTERRUPTED):
            raise InteropError(f"Run {run.id} from {imported.origin.source} was left half-imported (status "
                               f"{existing.status.value}); import it into a fresh --db.")
        return False
    store.begin_run(run)
    for case in imported.cases:
        store.add_case(run.id, case)
    store.finish_run(run.id, run.status, run.started_at)
    return True


def import_path(store: Store, path: Path, format: str = "auto", baseline: str | None = None) -> ImportReport:
    """Import every run in ``path`` into ``store``; runs already stored are left as they are.

    Args:
        store: the store to write.
        path: a pytest-benchmark JSON file or ``.benchmarks`` folder, an asv ``results`` folder,
            or a Google Benchmark JSON file.
        format: ``auto`` (detect) or one of :data:`FORMATS`.
        baseline: when given, the baseline of that name is set to the newest run of the import.

    Raises:
        InteropError: the path is missing or not of the format.

    Example:
        report = import_path(store, Path("results"), baseline="main")
        report.added  # ['import-asv-...', ...]; [] when imported before
    """
    fmt, runs = read_path(Path(path), format)
    entries = []
    for imported in runs:
        added = _store(store, imported)
        failed = sum(c.status.value != "ok" for c in imported.cases)
        entries.append(ImportedEntry(imported.run.id, added, imported.origin.tool, imported.origin.source,
                                     imported.run.started_at, imported.run.git.commit, len(imported.cases), failed))
    if baseline is not None:
        store.set_baseline(baseline, entries[-1].run_id)
    return ImportReport(fmt, tuple(entries), baseline)


@dataclass(frozen=True)
class ExportReport:
    """What ``calibrax export`` wrote."""

    run_id: str
    format: str
    files: tuple[str, ...]
    benchmarks: int  # benchmarks written (cases, for pytest-benchmark)


def export_run(store: Store, ref: str, format: str, out: Path) -> ExportReport:
    """Write the stored run ``ref`` as pytest-benchmark JSON (a file) or asv results (a folder).

    Raises:
        NotFoundError: no run matches ``ref``.
        InteropError: unknown format, or the run cannot be written in it (see the writers).

    Example:
        export_run(store, "latest", "pytest-benchmark", Path("0001_run.json"))
    """
    if format not in EXPORT_FORMATS:
        raise InteropError(f"Unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}.")
    record = store.load_run(ref)
    if format == "pytest-benchmark":
        data = export_pytest_benchmark(record)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2))
        return ExportReport(record.run.id, format, (str(out),), len(data["benchmarks"]))
    written: Sequence[Path] = export_asv(record, out)
    names = {c.benchmark for c in record.cases}
    return ExportReport(record.run.id, format, tuple(str(p) for p in written), len(names))
