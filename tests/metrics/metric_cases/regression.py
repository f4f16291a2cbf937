"""Reference rows of the regression metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import PT, Inputs, N, case, reg_pair


def _r(fn: Callable[..., Any], positive: bool = False, **kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        return reg_pair(rng, positive=positive), dict(kw)
    return make


def _w(rng: np.random.Generator) -> Inputs:
    p, t = reg_pair(rng)
    return (p, t), {"weights": rng.uniform(0.1, 2.0, N)}


def _multi(rng: np.random.Generator) -> Inputs:
    t = rng.normal(size=(N, 3))
    return ((t + rng.normal(size=(N, 3))), t), {}


def _sk(fn: Callable[..., Any]) -> Callable[..., Any]:
    """scikit-learn takes (y_true, y_pred, sample_weight=...)."""
    def ref(p: Any, t: Any, weights: Any = None, **kw: Any) -> Any:
        return fn(t, p, sample_weight=weights, **kw)
    return ref


def _smape(p: np.ndarray, t: np.ndarray) -> float:
    den = np.abs(p) + np.abs(t)
    return float(np.mean(np.where(den == 0, 0.0, 2 * np.abs(p - t) / np.where(den == 0, 1, den))))


def _huber(p: np.ndarray, t: np.ndarray, delta: float = 1.0) -> float:
    r = np.abs(p.astype(np.float64) - t)
    return float(np.mean(np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))))


case("mse", PT, _w, _sk(skm.mean_squared_error))
case("mae", PT, _w, _sk(skm.mean_absolute_error))
case("rmse", PT, _w, _sk(skm.root_mean_squared_error))
case("r2", PT, _w, _sk(skm.r2_score))
case("mape", PT, _r(None), _sk(skm.mean_absolute_percentage_error), rtol=1e-4)
case("smape", PT, _r(None), _smape)
case("msle", PT, _r(None, positive=True), _sk(skm.mean_squared_log_error))
case("explained_variance", PT, _multi, _sk(skm.explained_variance_score))
case("max_error", PT, _r(None), lambda p, t: skm.max_error(t, p))
case("median_absolute_error", PT, _multi, _sk(skm.median_absolute_error))
case("huber_loss", PT, _r(None, delta=0.7), _huber)
case("quantile_loss", PT, _r(None, alpha=0.8), lambda p, t, alpha: skm.mean_pinball_loss(t, p, alpha=alpha))
case("log_cosh", PT, _r(None), lambda p, t: float(np.mean(np.log(np.cosh(p.astype(np.float64) - t)))))
case("relative_l2_error", PT, _multi, lambda p, t: np.linalg.norm(p - t) / np.linalg.norm(t))
case("mean_poisson_deviance", PT, _r(None, positive=True), _sk(skm.mean_poisson_deviance))
case("mean_gamma_deviance", PT, _r(None, positive=True), _sk(skm.mean_gamma_deviance))
case("mean_tweedie_deviance", PT, _r(None, positive=True, power=1.5),
     lambda p, t, power: skm.mean_tweedie_deviance(t, p, power=power))
case("d2_absolute_error_score", PT, _r(None), _sk(skm.d2_absolute_error_score))
case("mean_bias_error", PT, _w, lambda p, t, weights: np.average(p - t, weights=weights))
