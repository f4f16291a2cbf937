"""Reference rows of the uncertainty metrics."""

from __future__ import annotations

from typing import Any

import numpy as np

from metric_cases._base import GA, IV, Inputs, N, case


def _intervals(rng: np.random.Generator, **kw: Any) -> Inputs:
    c = rng.normal(size=N)
    w = rng.uniform(0.2, 2.0, N)
    return (c - w, c + w, c + rng.normal(size=N)), kw


def _iscore(lo: np.ndarray, hi: np.ndarray, y: np.ndarray, alpha: float) -> float:
    return float(np.mean((hi - lo) + 2 / alpha * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))))


def _gauss(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=N), rng.uniform(0.2, 2.0, N), rng.normal(size=N)), {}


case("picp", IV, _intervals, lambda lo, hi, y: np.mean((y >= lo) & (y <= hi)))
case("mpiw", IV, _intervals, lambda lo, hi, y: np.mean(hi - lo))
case("interval_score", IV, lambda rng: _intervals(rng, alpha=0.2), _iscore)
case("gaussian_nll", GA, _gauss, lambda m, v, y: np.mean(0.5 * (np.log(v) + (y - m) ** 2 / v)))
