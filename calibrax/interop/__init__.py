"""interop: other tools' benchmark histories in and out of the store.

Readers turn pytest-benchmark JSON, asv results folders and Google Benchmark JSON into core
records (:class:`ImportedRun`); :func:`import_path` stores them through :class:`calibrax.storage.Store`,
once each (run ids come from the files' content). Writers turn a stored run back into
pytest-benchmark JSON or asv results.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from calibrax.storage import Store
    >>> with Store.open(tempfile.mkdtemp() + "/calibrax.db") as store:
    ...     import_path(store, Path("/nonexistent.json"))
    Traceback (most recent call last):
    calibrax.interop._records.InteropError: /nonexistent.json does not exist; pass a benchmark JSON file or a results folder.
"""

from calibrax.interop._importer import (
    EXPORT_FORMATS,
    FORMATS,
    ExportReport,
    ImportedEntry,
    ImportReport,
    detect_format,
    export_run,
    import_path,
    read_path,
)
from calibrax.interop._records import ORIGIN_KEY, ImportedRun, ImportOrigin, InteropError, origin_of
from calibrax.interop.asv import export_asv, read_asv
from calibrax.interop.google_benchmark import read_google_benchmark
from calibrax.interop.pytest_benchmark import export_pytest_benchmark, read_pytest_benchmark

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ORIGIN_KEY",
    "ExportReport",
    "ImportOrigin",
    "ImportReport",
    "ImportedEntry",
    "ImportedRun",
    "InteropError",
    "detect_format",
    "export_asv",
    "export_pytest_benchmark",
    "export_run",
    "import_path",
    "origin_of",
    "read_asv",
    "read_google_benchmark",
    "read_path",
    "read_pytest_benchmark",
]
