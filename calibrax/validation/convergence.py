"""Convergence of a loss or metric series: tolerances met, empirical rate, plateau, divergence.

The series is read as an error ``e_k = |x_k - target|`` (``target`` 0 for a loss; the optimum
when it is known). A tolerance is met at the first step from which the error stays at or below
it to the end, so a noisy series that dips under once does not count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from calibrax.core.checks import ValidationEntry
from calibrax.core.errors import ConfigError

__all__ = [
    "ConvergenceCriteria",
    "ConvergenceResult",
    "ConvergenceStatus",
    "Rate",
    "RateEstimate",
    "check_convergence",
    "common_tolerance",
    "estimate_rate",
]


class ConvergenceStatus(str, Enum):
    """How a series ended."""

    CONVERGED = "converged"  # every tolerance is met
    PLATEAU = "plateau"  # a tolerance is missed and the series stopped improving
    PROGRESSING = "progressing"  # a tolerance is missed but the series still improves: more steps may help
    DIVERGED = "diverged"  # a NaN or infinity, or the error grew far above its best


class Rate(str, Enum):
    """The empirical order of convergence, read on a log scale."""

    SUBLINEAR = "sublinear"  # error ~ k^-p: log-error straight against log-step
    LINEAR = "linear"  # error ~ rho^k: log-error straight against step
    SUPERLINEAR = "superlinear"  # log e_{k+1} ~ q log e_k with q > 1 (q = 2: quadratic)
    UNKNOWN = "unknown"  # too few decreasing points to tell


@dataclass(frozen=True)
class RateEstimate:
    """An empirical convergence rate.

    Attributes:
        rate: sublinear, linear, superlinear or unknown.
        order: q in ``log e_{k+1} = q log e_k + c`` (1 for linear and sublinear).
        factor: rho per step for a linear rate (``e_{k+1} ~ rho e_k``).
        exponent: p for a sublinear rate (``e_k ~ k^-p``).
        r2_linear, r2_sublinear: fit quality of log-error against step and against log-step.
        points: how many errors the fit used.
    """

    rate: Rate
    order: float = math.nan
    factor: float = math.nan
    exponent: float = math.nan
    r2_linear: float = math.nan
    r2_sublinear: float = math.nan
    points: int = 0


@dataclass(frozen=True)
class ConvergenceCriteria:
    """What a series must reach, and how plateau and divergence are told.

    Attributes:
        tolerances: errors ``|x - target|`` to reach (relative to the first error when
            ``relative``); each must be > 0.
        target: the value the series should approach (0 for a loss).
        relative: read tolerances as fractions of the first error.
        plateau_window: a series whose best error improved by less than ``plateau_tol``
            (relative) over its last this-many steps has stopped improving.
        plateau_tol: relative improvement that still counts as progress.
        divergence_factor: an error this many times its best so far (and above its first)
            is divergence.

    Example:
        >>> ConvergenceCriteria(tolerances=(1e-2, 1e-4)).tolerances
        (0.01, 0.0001)
    """

    tolerances: tuple[float, ...]
    target: float = 0.0
    relative: bool = False
    plateau_window: int = 20
    plateau_tol: float = 1e-3
    divergence_factor: float = 10.0

    def __post_init__(self) -> None:
        tols = tuple(float(t) for t in self.tolerances)
        if not tols or any(not (math.isfinite(t) and t > 0) for t in tols):
            raise ConfigError(
                f"Convergence tolerances must be a non-empty list of positive numbers, got "
                f"{list(self.tolerances)!r}; e.g. tolerances: [1e-2, 1e-3]."
            )
        object.__setattr__(self, "tolerances", tols)
        if self.plateau_window < 2:
            raise ConfigError(f"plateau_window must be at least 2 steps, got {self.plateau_window!r}.")
        if not self.plateau_tol >= 0:
            raise ConfigError(f"plateau_tol must be a relative improvement >= 0, got {self.plateau_tol!r}.")
        if not self.divergence_factor > 1:
            raise ConfigError(f"divergence_factor must be above 1, got {self.divergence_factor!r}; e.g. 10.")


@dataclass(frozen=True)
class ConvergenceResult:
    """What a series did, against its criteria.

    Attributes:
        name: the series' name (``loss``, ``train/loss``).
        status: converged, plateau, progressing or diverged.
        steps: number of values.
        first, final, best: the first, last and best error.
        reached: tolerance -> the step from which the error stays within it (None: never).
        rate: the empirical rate over the decreasing part.
        plateau_step: the step from which the best error stayed within plateau_tol of its
            final best (set when the status is plateau).
        diverged_step: the first NaN, infinity or runaway step (set when diverged).
        message: a full sentence for people.
    """

    name: str
    status: ConvergenceStatus
    steps: int
    first: float
    final: float
    best: float
    reached: dict[float, int | None]
    rate: RateEstimate
    plateau_step: int | None
    diverged_step: int | None
    message: str

    @property
    def passed(self) -> bool:
        """True when every tolerance is met."""
        return self.status is ConvergenceStatus.CONVERGED

    def to_entry(self) -> ValidationEntry:
        """This result as a stored validation entry."""
        figures: dict[str, Any] = {
            "status": self.status.value, "steps": self.steps, "first": _json_float(self.first),
            "final": _json_float(self.final), "best": _json_float(self.best),
            "reached": [[tol, step] for tol, step in self.reached.items()],
            "rate": self.rate.rate.value, "order": _json_float(self.rate.order),
            "factor": _json_float(self.rate.factor), "exponent": _json_float(self.rate.exponent),
            "plateau_step": self.plateau_step, "diverged_step": self.diverged_step,
        }
        return ValidationEntry("convergence", self.name, self.passed, self.message, figures)


def _json_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _r2(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R^2 of a least-squares line through (x, y)."""
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    total = float(np.sum((y - y.mean()) ** 2))
    return float(slope), (1.0 - float(np.sum(resid**2)) / total) if total > 0 else 0.0


def estimate_rate(errors: Sequence[float] | np.ndarray, *, superlinear_order: float = 1.3) -> RateEstimate:
    """The empirical convergence rate of a decreasing error sequence, on a log scale.

    The running best of the positive, finite errors is used (noise does not make a rate),
    dropping the flat floor a series reaches at machine precision. The order q is the slope of
    ``log e_{k+1}`` against ``log e_k``; above ``superlinear_order`` the rate is superlinear.
    Otherwise the better of two straight-line fits decides: log-error against step (linear,
    geometric decay) or against log-step (sublinear, a power law).

    Example:
        >>> estimate_rate([0.5**k for k in range(30)]).rate.value
        'linear'
        >>> estimate_rate([1.0 / (k + 1) for k in range(200)]).rate.value
        'sublinear'

    References:
        Nocedal and Wright, Numerical Optimization (2nd ed., 2006), section 2.2 (rates of
        convergence).
    """
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e) & (e > 0)]
    if e.size < 4:
        return RateEstimate(Rate.UNKNOWN, points=int(e.size))
    best = np.minimum.accumulate(e)
    steps = np.arange(1, best.size + 1, dtype=float)
    strict = np.concatenate(([True], best[1:] < best[:-1] * (1 - 1e-9)))  # drop flat stretches
    best, steps = best[strict], steps[strict]
    floor = best[0] * 1e-12  # below this the rounding floor, not the method, sets the error
    keep = best > floor
    best, steps = best[keep], steps[keep]
    if best.size < 4:
        return RateEstimate(Rate.UNKNOWN, points=int(best.size))
    log_e = np.log(best)
    order, _ = _r2(log_e[:-1], log_e[1:])
    slope_lin, r2_lin = _r2(steps, log_e)
    slope_sub, r2_sub = _r2(np.log(steps), log_e)
    n = int(best.size)
    if order > superlinear_order:
        return RateEstimate(Rate.SUPERLINEAR, order=order, r2_linear=r2_lin, r2_sublinear=r2_sub, points=n)
    if r2_sub > r2_lin:
        return RateEstimate(Rate.SUBLINEAR, order=order, exponent=-slope_sub, r2_linear=r2_lin, r2_sublinear=r2_sub, points=n)
    return RateEstimate(Rate.LINEAR, order=order, factor=math.exp(slope_lin), r2_linear=r2_lin, r2_sublinear=r2_sub, points=n)


def _divergence(e: np.ndarray, factor: float) -> int | None:
    """The first step that is not finite, or whose error runs away from its best so far."""
    bad = np.flatnonzero(~np.isfinite(e))
    first_bad = int(bad[0]) if bad.size else None
    finite = e[: first_bad if first_bad is not None else e.size]
    if finite.size:
        best_before = np.minimum.accumulate(finite)
        runaway = np.flatnonzero((finite > factor * best_before) & (finite > finite[0]))
        if runaway.size:
            return int(runaway[0])
    return first_bad


def _reached(e: np.ndarray, tolerances: Iterable[float]) -> dict[float, int | None]:
    out: dict[float, int | None] = {}
    for tol in tolerances:
        above = np.flatnonzero(~(e <= tol))
        if above.size == 0:
            out[tol] = 0
        elif above[-1] + 1 < e.size:
            out[tol] = int(above[-1] + 1)
        else:
            out[tol] = None
    return out


def _plateau_step(e: np.ndarray, window: int, tol: float) -> int | None:
    """The step from which the best error stayed within ``tol`` (relative) of its final best,
    when the last ``window`` steps improved the best by less than ``tol``; else None."""
    best = np.minimum.accumulate(np.where(np.isfinite(e), e, np.inf))
    if e.size <= window or not math.isfinite(best[-1]):
        return None
    start = best[-window - 1]
    if start - best[-1] > tol * start:
        return None  # still improving over the window
    return int(np.flatnonzero(best <= best[-1] * (1 + tol) + 1e-300)[0])


def check_convergence(
    series: Sequence[float] | Any, criteria: ConvergenceCriteria, *, name: str = "loss"
) -> ConvergenceResult:
    """Classify a loss or metric series: converged, plateau, progressing or diverged.

    Args:
        series: the values in step order (a list, a NumPy or JAX array).
        criteria: tolerances, target, plateau and divergence settings.
        name: the series' name, used in messages and the stored entry.

    Raises:
        ConfigError: the series is empty or not one-dimensional.

    Example:
        >>> r = check_convergence([0.5**k for k in range(40)], ConvergenceCriteria((1e-3, 1e-6)))
        >>> r.status.value, r.reached[1e-3], r.rate.rate.value
        ('converged', 10, 'linear')
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(
            f"Series {name!r} must be a non-empty 1-D sequence of values per step, got shape {x.shape}."
        )
    e = np.abs(x - criteria.target)
    scale = e[0] if criteria.relative and math.isfinite(e[0]) and e[0] > 0 else 1.0
    e_scaled = e / scale
    diverged = _divergence(e, criteria.divergence_factor)
    head = e_scaled[: diverged if diverged is not None else e.size]
    reached: dict[float, int | None] = {t: None for t in criteria.tolerances}
    if diverged is None:
        reached = _reached(e_scaled, criteria.tolerances)
    rate = estimate_rate(head)
    finite = head[np.isfinite(head)]
    best = float(finite.min()) if finite.size else math.nan
    plateau = None
    if diverged is not None:
        status = ConvergenceStatus.DIVERGED
    elif all(step is not None for step in reached.values()):
        status = ConvergenceStatus.CONVERGED
    else:
        plateau = _plateau_step(e_scaled, criteria.plateau_window, criteria.plateau_tol)
        status = ConvergenceStatus.PLATEAU if plateau is not None else ConvergenceStatus.PROGRESSING
    result = ConvergenceResult(
        name, status, int(x.size), float(e_scaled[0]), float(e_scaled[-1]), best, reached, rate,
        plateau, diverged, "",
    )
    return _with_message(result, criteria)


def _with_message(r: ConvergenceResult, criteria: ConvergenceCriteria) -> ConvergenceResult:
    kind = "relative error" if criteria.relative else f"error |x - {criteria.target:g}|"
    met = [f"{t:g} at step {s}" for t, s in r.reached.items() if s is not None]
    missed = [f"{t:g}" for t, s in r.reached.items() if s is None]
    rate = r.rate.rate.value
    if r.status is ConvergenceStatus.DIVERGED:
        text = (f"{r.name} diverged at step {r.diverged_step} of {r.steps} (a NaN, an infinity, or an {kind} over "
                f"{criteria.divergence_factor:g}x its best); lower the learning rate or check the inputs.")
    elif r.status is ConvergenceStatus.CONVERGED:
        text = f"{r.name} converged: {kind} within {', '.join(met)} of {r.steps} steps, rate {rate}."
    elif r.status is ConvergenceStatus.PLATEAU:
        text = (f"{r.name} reached a plateau at step {r.plateau_step} with best {kind} {r.best:.3g}, missing "
                f"tolerance {', '.join(missed)}; the model or the learning rate cannot get there as set.")
    else:
        text = (f"{r.name} is still improving after {r.steps} steps (best {kind} {r.best:.3g}) but misses "
                f"tolerance {', '.join(missed)}; more steps may meet it.")
    return replace(r, message=text)


def common_tolerance(results: Sequence[ConvergenceResult]) -> float | None:
    """The smallest tolerance that every series met; None when some tolerance is met by none.

    Example:
        >>> c = ConvergenceCriteria((1e-1, 1e-3))
        >>> fast = check_convergence([0.5**k for k in range(30)], c)
        >>> slow = check_convergence([1 / (k + 1) for k in range(30)], c)
        >>> common_tolerance([fast, slow])
        0.1
    """
    if not results:
        return None
    shared = set(results[0].reached)
    for r in results[1:]:
        shared &= set(r.reached)
    met = [t for t in shared if all(r.reached[t] is not None for r in results)]
    return min(met) if met else None
