"""The error and input checks shared by the fits, fronts, rankings and comparisons."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibrax.core.errors import CalibraxError
from calibrax.core.models import Direction

__all__ = ["AnalysisError", "as_direction", "finite_array"]


class AnalysisError(CalibraxError, ValueError):
    """Raised when data cannot be analysed as asked.

    For example: too few points for a fit, an ``info`` measure where a better direction is
    needed, values that are not finite, or sequences of different lengths.
    """


def as_direction(value: Direction | str, what: str) -> Direction:
    """Return ``value`` as a Direction that says which way is better, or raise AnalysisError."""
    try:
        direction = Direction(value)
    except ValueError:
        allowed = ", ".join(repr(d.value) for d in Direction if d is not Direction.INFO)
        raise AnalysisError(f"{what} has direction {value!r}; use one of {allowed}.") from None
    if direction is Direction.INFO:
        raise AnalysisError(
            f"{what} has direction 'info', which says nothing about which value is better; "
            "give it direction 'lower' or 'higher', or leave it out."
        )
    return direction


def finite_array(values: ArrayLike, what: str, *, positive: bool = False, ndim: int = 1) -> NDArray[np.float64]:
    """Return ``values`` as a float array, raising AnalysisError on NaN, inf or (if asked) <= 0."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{what} must be numbers; could not read them ({exc}).") from None
    if x.ndim != ndim:
        raise AnalysisError(f"{what} must be a {ndim}-dimensional sequence of numbers, got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        bad = x[~np.isfinite(x)].ravel()[0]
        raise AnalysisError(f"{what} must all be finite, got {bad}; drop failed or missing entries first.")
    if positive and np.any(x <= 0):
        bad = x[x <= 0].ravel()[0]
        raise AnalysisError(f"{what} must all be positive (they are fitted on a log scale), got {bad}.")
    return x
