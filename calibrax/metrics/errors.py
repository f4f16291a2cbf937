"""Errors raised by the metrics library."""

from __future__ import annotations

from calibrax.core.errors import CalibraxError

__all__ = ["MetricInputError", "MetricWeightsError"]


class MetricInputError(CalibraxError, ValueError):
    """Raised when a metric receives inputs of the wrong shape, dtype or option value, the wrong
    number of inputs, an input by keyword or under an unknown role, or an unknown option.

    The message names the argument, the value received and what would be accepted. Shape
    checks run while tracing, so they fire under ``jax.jit`` as well as eagerly.
    """


class MetricWeightsError(CalibraxError, ValueError):
    """Raised when weights cannot be saved to or restored from a file.

    The message names the file and, for a mismatch, the parameter path with the expected and the
    found shape or dtype. Weights are only read from local files; nothing is downloaded.
    """
