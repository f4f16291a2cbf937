"""metrics: validated JAX metrics behind one registry.

Every metric is a pure JAX function registered with its domain, direction and declared
properties. Look one up with :func:`get`, filter with :func:`list_metrics`, call one by name
with :func:`compute`, and add your own with :func:`register` (yours always win over a
built-in of the same name). Pure functions live in ``calibrax.metrics.functional``.

Example:
    >>> import jax.numpy as jnp
    >>> from calibrax import metrics
    >>> float(metrics.compute("mae", jnp.array([1.0, 3.0]), jnp.array([2.0, 3.0])))
    0.5
    >>> "rmse" in [e.name for e in metrics.list_metrics(domain="regression")]
    True
"""

from calibrax.metrics import functional as functional
from calibrax.metrics._api import compute, domains, get, list_metrics
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.registry import (
    INVARIANCES,
    METRICS,
    PROPERTY_NAMES,
    MetricEntry,
    Signature,
    Tier,
    register,
)

__all__ = [
    "INVARIANCES",
    "METRICS",
    "PROPERTY_NAMES",
    "MetricEntry",
    "MetricInputError",
    "Signature",
    "Tier",
    "compute",
    "domains",
    "functional",
    "get",
    "list_metrics",
    "register",
]
