"""storage: the SQLite store of runs, cases, samples, baselines and verdicts.

Example:
    >>> import tempfile
    >>> from calibrax.storage import Store
    >>> with Store.open(tempfile.mkdtemp() + "/calibrax.db") as store:
    ...     store.list_baselines()
    []
"""

import sys as _sys

_MASKED = [name for name in ("pandas", "numpy") if name not in _sys.modules]
if _MASKED and "sqlite_utils" not in _sys.modules:
    # sqlite-utils imports pandas (about 0.6 s) and numpy (about 0.1 s) only to give their scalar
    # types a column type when it creates a table from values; the store creates its tables from
    # its own DDL and binds plain Python values, so the store commands start without them. A
    # later ``import pandas`` or ``import numpy`` in the same process works as usual.
    for _name in _MASKED:
        _sys.modules[_name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for _name in _MASKED:
            del _sys.modules[_name]

from calibrax.storage._annotations import Annotation
from calibrax.storage._extras import Artifact
from calibrax.storage._interleaved import InterleavedLink, TrialValue
from calibrax.storage._outbox import Delivery, DeliveryState
from calibrax.storage._schema import SCHEMA_VERSION
from calibrax.storage.store import Baseline, Store

__all__ = ["SCHEMA_VERSION", "Annotation", "Artifact", "Baseline", "Delivery", "DeliveryState", "InterleavedLink",
           "Store", "TrialValue"]
