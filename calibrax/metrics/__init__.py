"""metrics: validated JAX metrics behind one registry.

Every metric is a pure JAX function registered with its domain, direction and declared
properties. Look one up with :func:`get`, filter with :func:`list_metrics`, call one by name
with :func:`compute`, and add your own with :func:`register` (yours always win over a
built-in of the same name). Pure functions live in ``calibrax.metrics.functional``. A
benchmark's declared ``metrics:`` are read by :func:`parse_metric_specs` and computed on its
outputs by :func:`compute_metrics`.

Example:
    >>> import jax.numpy as jnp
    >>> from calibrax import metrics
    >>> float(metrics.compute("mae", jnp.array([1.0, 3.0]), jnp.array([2.0, 3.0])))
    0.5
    >>> "rmse" in [e.name for e in metrics.list_metrics(domain="regression")]
    True
"""

from calibrax.metrics import composition as composition
from calibrax.metrics import functional as functional
from calibrax.metrics import learning as learning
from calibrax.metrics import perceptual as perceptual
from calibrax.metrics import stateful as stateful
from calibrax.metrics import wrappers as wrappers
from calibrax.metrics._api import compute, domains, get, list_metrics
from calibrax.metrics._weights import load_weights, save_weights
from calibrax.metrics.declared import MetricSpec, compute_metrics, parse_metric_specs
from calibrax.metrics.errors import MetricInputError, MetricWeightsError
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
    "MetricSpec",
    "MetricWeightsError",
    "Signature",
    "Tier",
    "composition",
    "compute",
    "compute_metrics",
    "domains",
    "functional",
    "get",
    "learning",
    "list_metrics",
    "load_weights",
    "parse_metric_specs",
    "perceptual",
    "register",
    "save_weights",
    "stateful",
    "wrappers",
]
