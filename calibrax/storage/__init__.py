"""storage: the SQLite store of runs, cases, samples, baselines and verdicts.

Example:
    >>> import tempfile
    >>> from calibrax.storage import Store
    >>> with Store.open(tempfile.mkdtemp() + "/calibrax.db") as store:
    ...     store.list_baselines()
    []
"""

import sys as _sys

if "pandas" not in _sys.modules:
    # sqlite-utils imports pandas (about 0.6 s) only to give pandas.Timestamp a column type; the
    # store holds no pandas values, so the store commands start without it. A later
    # ``import pandas`` in the same process works as usual.
    _sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del _sys.modules["pandas"]

from calibrax.storage._annotations import Annotation
from calibrax.storage._extras import Artifact
from calibrax.storage._interleaved import InterleavedLink, TrialValue
from calibrax.storage._outbox import Delivery, DeliveryState
from calibrax.storage._schema import SCHEMA_VERSION
from calibrax.storage.store import Baseline, Store

__all__ = ["SCHEMA_VERSION", "Annotation", "Artifact", "Baseline", "Delivery", "DeliveryState", "InterleavedLink",
           "Store", "TrialValue"]
