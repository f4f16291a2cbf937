"""dashboard: ``calibrax publish``, a static history site over a whole store.

Example:
    >>> import tempfile
    >>> from calibrax.storage import Store
    >>> folder = tempfile.mkdtemp()
    >>> with Store.open(folder + "/calibrax.db") as store:
    ...     publish(store, folder + "/site").benchmarks
    0
"""

from calibrax.dashboard._data import BenchmarkData, Columns, RunIndex, build_benchmark, run_index
from calibrax.dashboard.site import DEFAULT_REPORT_URL, PublishResult, publish

__all__ = [
    "DEFAULT_REPORT_URL",
    "BenchmarkData",
    "Columns",
    "PublishResult",
    "RunIndex",
    "build_benchmark",
    "publish",
    "run_index",
]
