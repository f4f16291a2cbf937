"""Scaling laws fitted to sweep results: power laws, saturating laws and complexity classes.

Power laws ``y = a * x^b`` are fitted by least squares on ``log y``. Saturating laws
``y = E + A / x^alpha`` and the two-variable Chinchilla form ``y = E + A / N^a + B / D^b`` are
fitted with ``scipy.optimize.least_squares`` on relative residuals ``(prediction - y) / y``, so
points of every magnitude weigh alike and the Huber ``f_scale`` is a relative deviation.
Confidence intervals come from the covariance of the estimates with Student-t quantiles; scale
factors (``a``, ``A``, ``B``) are fitted as logarithms, so their intervals are asymmetric.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibrax.analysis._common import AnalysisError, finite_array

__all__ = [
    "ComplexityCandidate",
    "ComplexityFit",
    "Parameter",
    "ScalingFit",
    "classify_complexity",
    "fit_chinchilla",
    "fit_power_law",
    "fit_saturating",
    "r_squared",
    "relative_rms",
]

Model = Literal["power_law", "saturating", "chinchilla"]
Loss = Literal["linear", "huber", "soft_l1"]
_FORMULAS = {
    "power_law": "y = a * x^b",
    "saturating": "y = E + A / x^alpha",
    "chinchilla": "y = E + A / N^a + B / D^b",
}
_MAX_EXPONENT = 10.0


@dataclass(frozen=True)
class Parameter:
    """One fitted parameter with its standard error and confidence interval."""

    name: str
    value: float
    stderr: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ScalingFit:
    """A fitted scaling law.

    Attributes:
        model: ``power_law``, ``saturating`` or ``chinchilla``.
        formula: the law in words, naming the parameters.
        params: the fitted parameters in the order of the formula.
        r_squared: coefficient of determination on the fitted scale (``log y`` for power laws,
            ``y`` otherwise); NaN when ``y`` is constant.
        relative_rms: root mean square of ``(prediction - y) / y``.
        n: number of points fitted.
        level: confidence level of the intervals.
        loss: the loss minimised (``linear`` is ordinary least squares).
    """

    model: Model
    formula: str
    params: tuple[Parameter, ...]
    r_squared: float
    relative_rms: float
    n: int
    level: float
    loss: str

    def __getitem__(self, name: str) -> Parameter:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.model} has parameters {[p.name for p in self.params]}, not {name!r}.")

    def predict(self, *x: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the fitted law at ``x`` (``N`` and ``D`` for the Chinchilla form)."""
        want = 2 if self.model == "chinchilla" else 1
        if len(x) != want:
            raise AnalysisError(f"The {self.model} law takes {want} input(s), got {len(x)}.")
        v = {p.name: p.value for p in self.params}
        xs = [np.asarray(xi, dtype=float) for xi in x]
        if self.model == "power_law":
            return np.asarray(v["a"] * xs[0] ** v["b"], dtype=float)
        if self.model == "saturating":
            return np.asarray(v["E"] + v["A"] / xs[0] ** v["alpha"], dtype=float)
        return np.asarray(v["E"] + v["A"] / xs[0] ** v["a"] + v["B"] / xs[1] ** v["b"], dtype=float)


def r_squared(y: ArrayLike, prediction: ArrayLike) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (NaN when ``y`` is constant).

    Example:
        >>> r_squared([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        0.5

    References:
        Draper and Smith, Applied Regression Analysis (3rd ed., Wiley, 1998), section 1.3.
    """
    yy, pp = np.asarray(y, dtype=float), np.asarray(prediction, dtype=float)
    ss_tot = float(np.sum((yy - yy.mean()) ** 2))
    return 1.0 - float(np.sum((yy - pp) ** 2)) / ss_tot if ss_tot > 0 else math.nan


def relative_rms(y: ArrayLike, prediction: ArrayLike) -> float:
    """Root mean square of the relative errors ``(prediction - y) / y``.

    Example:
        >>> round(relative_rms([1.0, 2.0], [1.1, 1.8]), 6)
        0.1

    References:
        Goldsmith, Aiken and Wilkerson, "Measuring empirical computational complexity", ESEC/FSE
        2007 (relative error as the fit criterion for running times).
    """
    yy, pp = np.asarray(y, dtype=float), np.asarray(prediction, dtype=float)
    return float(np.sqrt(np.mean((pp / yy - 1.0) ** 2)))


def _check_xy(x: ArrayLike, y: ArrayLike, min_points: int, model: str) -> tuple[NDArray[np.float64], ...]:
    xs = finite_array(x, f"{model} x values", positive=True)
    ys = finite_array(y, f"{model} y values", positive=True)
    if xs.shape != ys.shape:
        raise AnalysisError(f"x and y need the same length, got {xs.size} and {ys.size}.")
    if xs.size < min_points:
        raise AnalysisError(
            f"A {model} fit needs at least {min_points} points to estimate its parameters with confidence "
            f"intervals, got {xs.size}; add sweep points."
        )
    if np.unique(xs).size < 2:
        raise AnalysisError(f"A {model} fit needs at least two distinct x values, got only {xs[0]}.")
    return xs, ys


@functools.lru_cache(maxsize=256)
def _t_quantile(level: float, dof: int) -> float:
    """The two-sided Student t quantile of ``level`` (remembered: a report fits one law per
    series, and scipy's ppf costs more than the fit)."""
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1, got {level}.")
    return float(stats.t.ppf(0.5 + level / 2, dof))


def _param(name: str, value: float, se: float, t: float, *, log: bool = False) -> Parameter:
    """A parameter from its estimate and standard error; ``log`` means ``value`` is a logarithm."""
    if log:
        scale = math.exp(value)
        return Parameter(name, scale, scale * se, math.exp(value - t * se), math.exp(value + t * se))
    return Parameter(name, value, se, value - t * se, value + t * se)


def fit_power_law(x: ArrayLike, y: ArrayLike, *, level: float = 0.95) -> ScalingFit:
    """Fit ``y = a * x^b`` by least squares on ``log y = log a + b log x``.

    Args:
        x: positive sizes (at least 3 points, two distinct).
        y: positive measured values.
        level: confidence level of the intervals of ``a`` and ``b``.

    Example:
        >>> fit = fit_power_law([1, 2, 4, 8], [3.0, 12.0, 48.0, 192.0])
        >>> round(fit["a"].value, 6), round(fit["b"].value, 6)
        (3.0, 2.0)

    References:
        Clauset, Shalizi and Newman, "Power-law distributions in empirical data", SIAM Review
        51(4), 2009 (log-log least squares and its caveats); Draper and Smith (1998), ch. 3.
    """
    xs, ys = _check_xy(x, y, 3, "power_law")
    lx, ly = np.log(xs), np.log(ys)
    res = _linregress(lx, ly)
    t = _t_quantile(level, xs.size - 2)
    a = _param("a", float(res.intercept), float(res.intercept_stderr), t, log=True)
    b = _param("b", float(res.slope), float(res.stderr), t)
    pred = a.value * xs**b.value
    fitted_log = res.intercept + res.slope * lx
    return ScalingFit("power_law", _FORMULAS["power_law"], (a, b), r_squared(ly, fitted_log),
                      relative_rms(ys, pred), int(xs.size), level, "linear")


def _linregress(x: NDArray[np.float64], y: NDArray[np.float64]) -> Any:
    """``scipy.stats.linregress`` of finite 1-D arrays of one length, called without its axis and
    NaN-policy wrapper, which has nothing to do here and costs four times the fit (a run report
    fits a law per series, 120 of them for 1,000 cases); the same numbers (tested)."""
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    return getattr(stats.linregress, "__wrapped__", stats.linregress)(x, y)


def _nnls_start(columns: NDArray[np.float64], ys: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Non-negative coefficients of ``y ~ columns @ c`` with rows weighted by 1/y, and the cost."""
    from scipy import optimize  # on first use: scipy adds 2 s to the CLI start-up
    a = columns / ys[:, None]
    scale = np.maximum(np.abs(a).max(axis=0), 1e-300)
    coef, rnorm = optimize.nnls(a / scale, np.ones_like(ys))
    return coef / scale, float(rnorm)


def _least_squares_fit(
    model: Model, names: tuple[str, ...], log_params: frozenset[str], predict: Callable[[NDArray[np.float64]], NDArray],
    starts: list[NDArray[np.float64]], bounds: tuple[list[float], list[float]], ys: NDArray[np.float64],
    loss: Loss, f_scale: float, level: float,
) -> ScalingFit:
    """Run least_squares from each start, keep the best, and turn its Jacobian into intervals."""
    from scipy import optimize  # on first use: scipy adds 2 s to the CLI start-up
    if loss not in ("linear", "huber", "soft_l1"):
        raise AnalysisError(f"loss must be 'linear', 'huber' or 'soft_l1', got {loss!r}.")
    if not f_scale > 0:
        raise AnalysisError(f"f_scale must be positive (a relative deviation such as 0.05), got {f_scale}.")

    def residuals(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(predict(theta) / ys - 1.0, dtype=float)

    fits = [
        optimize.least_squares(residuals, x0, bounds=bounds, loss=loss, f_scale=f_scale, x_scale="jac",
                               ftol=1e-14, xtol=1e-14, gtol=1e-14, max_nfev=2000)
        for x0 in starts
    ]
    best = min(fits, key=lambda r: float(r.cost))
    dof = ys.size - len(names)
    s2 = float(np.sum(best.fun**2)) / dof
    cov = np.linalg.pinv(best.jac.T @ best.jac) * s2
    t = _t_quantile(level, dof)
    params = tuple(_param(n, float(v), float(math.sqrt(max(cov[i, i], 0.0))), t, log=n in log_params)
                   for i, (n, v) in enumerate(zip(names, best.x, strict=True)))
    pred = predict(best.x)
    return ScalingFit(model, _FORMULAS[model], params, r_squared(ys, pred), relative_rms(ys, pred),
                      int(ys.size), level, loss)


def _exp(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``exp`` capped far above any fitted value, so trial steps of the optimiser cannot overflow."""
    return np.exp(np.minimum(v, 200.0))


def _start_exponent(e: float) -> float:
    return min(max(e, 1e-6), _MAX_EXPONENT - 1e-6)


def fit_saturating(
    x: ArrayLike, y: ArrayLike, *, loss: Loss = "linear", f_scale: float = 0.05, level: float = 0.95
) -> ScalingFit:
    """Fit ``y = E + A / x^alpha`` with ``E >= 0``, ``A > 0`` and ``0 <= alpha <= 10``.

    Starting points come from a grid of exponents, each with ``E`` and ``A`` solved by
    non-negative least squares; the best start is refined by ``least_squares``.

    Args:
        x: positive sizes (at least 4 points, two distinct).
        y: positive measured values (a loss, a time per item).
        loss: ``linear`` (least squares), or ``huber``/``soft_l1`` to limit the pull of outliers.
        f_scale: for robust losses, the relative deviation beyond which a point counts as an
            outlier.
        level: confidence level of the intervals.

    Example:
        >>> xs = [1, 2, 4, 8, 16, 32]
        >>> fit = fit_saturating(xs, [2.0 + 3.0 / v**0.5 for v in xs])
        >>> [round(fit[k].value, 4) for k in ("E", "A", "alpha")]
        [2.0, 3.0, 0.5]

    References:
        Hestness et al., "Deep learning scaling is predictable, empirically", arXiv:1712.00409
        (2017); Huber, "Robust estimation of a location parameter", Ann. Math. Stat. 35, 1964.
    """
    xs, ys = _check_xy(x, y, 4, "saturating")
    lx = np.log(xs)

    def predict(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(theta[0] + _exp(theta[1] - theta[2] * lx), dtype=float)

    scored = []
    for alpha in (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
        coef, cost = _nnls_start(np.column_stack([np.ones_like(xs), xs**-alpha]), ys)
        scored.append((cost, np.array([coef[0], math.log(max(coef[1], 1e-12 * ys.max())), _start_exponent(alpha)])))
    scored.sort(key=lambda s: s[0])
    starts = [s[1] for s in scored[:3]]
    bounds = ([0.0, -np.inf, 0.0], [np.inf, np.inf, _MAX_EXPONENT])
    return _least_squares_fit("saturating", ("E", "A", "alpha"), frozenset({"A"}), predict, starts, bounds,
                              ys, loss, f_scale, level)


def fit_chinchilla(
    n: ArrayLike, d: ArrayLike, y: ArrayLike, *, loss: Loss = "linear", f_scale: float = 0.05, level: float = 0.95
) -> ScalingFit:
    """Fit the two-variable law ``y = E + A / N^a + B / D^b`` (parameters ``N``, data ``D``).

    ``E >= 0``, ``A, B > 0`` and exponents in ``[0, 10]``. Starting points come from a grid of
    exponent pairs with ``E``, ``A`` and ``B`` solved by non-negative least squares.

    Args:
        n: positive model sizes, one per point.
        d: positive data sizes, one per point.
        y: positive measured values (for example the final loss); at least 6 points.
        loss: ``linear``, or ``huber``/``soft_l1`` for a robust fit.
        f_scale: for robust losses, the relative deviation beyond which a point is an outlier.
        level: confidence level of the intervals.

    Example:
        >>> ns, ds = [1e8, 1e8, 1e9, 1e9, 1e10, 1e10, 3e8], [1e9, 1e11, 1e9, 1e11, 1e10, 3e11, 3e10]
        >>> ys = [1.69 + 406.4 / a**0.34 + 410.7 / b**0.28 for a, b in zip(ns, ds)]
        >>> fit = fit_chinchilla(ns, ds, ys)
        >>> round(fit["a"].value, 3), round(fit["b"].value, 3)
        (0.34, 0.28)

    References:
        Hoffmann et al., "Training compute-optimal large language models", NeurIPS 2022
        (approach 3: Huber loss over a grid of starting points).
    """
    ns = finite_array(n, "chinchilla N values", positive=True)
    ds, ys = _check_xy(d, y, 6, "chinchilla")
    if ns.shape != ys.shape:
        raise AnalysisError(f"N, D and y need the same length, got {ns.size}, {ds.size} and {ys.size}.")
    if np.unique(ns).size < 2:
        raise AnalysisError(f"A chinchilla fit needs at least two distinct N values, got only {ns[0]}.")
    ln, ld = np.log(ns), np.log(ds)

    def predict(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(theta[0] + _exp(theta[1] - theta[3] * ln) + _exp(theta[2] - theta[4] * ld), dtype=float)

    grid = (0.05, 0.15, 0.3, 0.5, 0.8, 1.2)
    scored = []
    for ea, eb in itertools.product(grid, grid):
        coef, cost = _nnls_start(np.column_stack([np.ones_like(ns), ns**-ea, ds**-eb]), ys)
        floor = 1e-12 * ys.max()
        theta = [coef[0], math.log(max(coef[1], floor)), math.log(max(coef[2], floor)), ea, eb]
        scored.append((cost, np.array(theta)))
    scored.sort(key=lambda s: s[0])
    starts = [s[1] for s in scored[:4]]
    bounds = ([0.0, -np.inf, -np.inf, 0.0, 0.0], [np.inf, np.inf, np.inf, _MAX_EXPONENT, _MAX_EXPONENT])
    return _least_squares_fit("chinchilla", ("E", "A", "B", "a", "b"), frozenset({"A", "B"}), predict, starts,
                              bounds, ys, loss, f_scale, level)


@dataclass(frozen=True)
class ComplexityCandidate:
    """One complexity class fitted as ``t = a + b * g(n)`` with ``a, b >= 0``.

    Attributes:
        name: the class, such as ``O(n log n)``.
        a: the constant term (0 allowed).
        b: the coefficient of ``g(n)`` (0 for ``O(1)``, whose only term is ``a``).
        relative_rms: root mean square of ``(a + b g(n) - t) / t``.
    """

    name: str
    a: float
    b: float
    relative_rms: float


@dataclass(frozen=True)
class ComplexityFit:
    """The complexity class that best explains measured times.

    Attributes:
        best: the class with the smallest relative RMS (the simpler class wins exact ties).
        runner_up: the next best class, for judging how clear the choice is.
        candidates: every class, from best to worst.
        n_sizes: number of distinct sizes measured.
        decades: ``log10(max n / min n)``.
        warning: why the classification may not be trusted (fewer than 6 sizes or less than 2
            decades), or None.
    """

    best: ComplexityCandidate
    runner_up: ComplexityCandidate
    candidates: tuple[ComplexityCandidate, ...]
    n_sizes: int
    decades: float
    warning: str | None


_CLASSES: tuple[tuple[str, Callable[[NDArray[np.float64]], NDArray[np.float64]] | None], ...] = (
    ("O(1)", None),
    ("O(log n)", np.log),
    ("O(n)", lambda n: n),
    ("O(n log n)", lambda n: n * np.log(n)),
    ("O(n^2)", lambda n: n**2),
    ("O(n^3)", lambda n: n**3),
)


def classify_complexity(n: ArrayLike, t: ArrayLike) -> ComplexityFit:
    """Pick the complexity class ``g`` in 1, log n, n, n log n, n^2, n^3 that best fits times.

    Each class is fitted as ``t = a + b * g(n)`` with ``a, b >= 0`` by non-negative least squares
    with rows weighted by ``1 / t`` (relative errors), and classes are compared by relative RMS.
    Repeated sizes are allowed. Fewer than 6 distinct sizes or less than 2 decades give a
    ``warning``, not an error.

    Args:
        n: problem sizes, at least 1 (3 distinct sizes or more).
        t: positive times (or any positive cost), one per size.

    Example:
        >>> sizes = [10, 30, 100, 300, 1000, 3000]
        >>> fit = classify_complexity(sizes, [1e-3 + 2e-6 * s * s for s in sizes])
        >>> fit.best.name, fit.runner_up.name, fit.warning is None
        ('O(n^2)', 'O(n^3)', True)

    References:
        Goldsmith, Aiken and Wilkerson, "Measuring empirical computational complexity", ESEC/FSE
        2007; Lawson and Hanson, Solving Least Squares Problems (1974), ch. 23 (NNLS).
    """
    ns = finite_array(n, "complexity sizes")
    ts = finite_array(t, "complexity times", positive=True)
    if ns.shape != ts.shape:
        raise AnalysisError(f"Sizes and times need the same length, got {ns.size} and {ts.size}.")
    if np.any(ns < 1):
        raise AnalysisError(f"Sizes must be at least 1, got {ns.min()}.")
    sizes = np.unique(ns)
    if sizes.size < 3:
        raise AnalysisError(
            f"Classifying complexity needs times at 3 or more distinct sizes, got {sizes.size}; "
            "measure at least 6 sizes over 2 decades."
        )
    cands = []
    for name, g in _CLASSES:
        cols = np.ones((ns.size, 1)) if g is None else np.column_stack([np.ones_like(ns), g(ns)])
        coef, rnorm = _nnls_start(cols, ts)
        b = float(coef[1]) if g is not None else 0.0
        cands.append(ComplexityCandidate(name, float(coef[0]), b, rnorm / math.sqrt(ns.size)))
    lowest = min(c.relative_rms for c in cands)
    best = next(c for c in cands if c.relative_rms <= lowest * (1 + 1e-6) + 1e-12)  # simplest among exact ties
    rest = sorted((c for c in cands if c is not best), key=lambda c: c.relative_rms)
    decades = float(math.log10(sizes[-1] / sizes[0]))
    problems = []
    if sizes.size < 6:
        problems.append(f"only {sizes.size} distinct sizes (use at least 6)")
    if decades < 2:
        problems.append(f"sizes span only {decades:.2f} decades (use at least 2)")
    warning = "Classification is unreliable: " + " and ".join(problems) + "." if problems else None
    return ComplexityFit(best, rest[0], (best, *rest), int(sizes.size), decades, warning)
