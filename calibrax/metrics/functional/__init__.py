"""Tier 0: pure, jit-compatible JAX metric functions, one module per domain.

Importing this package registers every built-in metric.

Example:
    >>> import jax.numpy as jnp
    >>> from calibrax.metrics.functional import regression
    >>> float(regression.mse(jnp.array([0.0, 2.0]), jnp.array([0.0, 0.0])))
    2.0
"""

from calibrax.metrics.functional import audio as audio
from calibrax.metrics.functional import calibration as calibration
from calibrax.metrics.functional import classification as classification
from calibrax.metrics.functional import clustering as clustering
from calibrax.metrics.functional import distance as distance
from calibrax.metrics.functional import divergence as divergence
from calibrax.metrics.functional import fairness as fairness
from calibrax.metrics.functional import forecasting as forecasting
from calibrax.metrics.functional import generative as generative
from calibrax.metrics.functional import geometric as geometric
from calibrax.metrics.functional import graph as graph
from calibrax.metrics.functional import image as image
from calibrax.metrics.functional import information as information
from calibrax.metrics.functional import manifold as manifold
from calibrax.metrics.functional import ranking as ranking
from calibrax.metrics.functional import regression as regression
from calibrax.metrics.functional import segmentation as segmentation
from calibrax.metrics.functional import statistical as statistical
from calibrax.metrics.functional import text as text
from calibrax.metrics.functional import uncertainty as uncertainty

__all__ = ["audio", "calibration", "classification", "clustering", "distance", "divergence", "fairness", "forecasting", "generative", "geometric", "graph", "image", "information", "manifold", "ranking", "regression", "segmentation", "statistical", "text", "uncertainty"]
