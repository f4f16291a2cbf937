"""storage: the SQLite store of runs, cases, samples, baselines and verdicts.

Example:
    >>> import tempfile
    >>> from calibrax.storage import Store
    >>> with Store.open(tempfile.mkdtemp() + "/calibrax.db") as store:
    ...     store.list_baselines()
    []
"""

from calibrax.storage._annotations import Annotation
from calibrax.storage._extras import Artifact
from calibrax.storage._interleaved import InterleavedLink, TrialMedian
from calibrax.storage._outbox import Delivery, DeliveryState
from calibrax.storage._schema import SCHEMA_VERSION
from calibrax.storage.store import Baseline, Store

__all__ = ["SCHEMA_VERSION", "Annotation", "Artifact", "Baseline", "Delivery", "DeliveryState", "InterleavedLink",
           "Store", "TrialMedian"]
