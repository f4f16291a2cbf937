"""Errors raised by the metrics library."""

from __future__ import annotations

from calibrax.core.errors import CalibraxError

__all__ = ["MetricInputError"]


class MetricInputError(CalibraxError, ValueError):
    """Raised when a metric receives inputs of the wrong shape, dtype or option value.

    The message names the argument, the value received and what would be accepted. Shape
    checks run while tracing, so they fire under ``jax.jit`` as well as eagerly.
    """
