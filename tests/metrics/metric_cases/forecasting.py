"""Reference rows of the forecasting metrics."""

from __future__ import annotations

import numpy as np
import scipy.spatial.distance as ssd

from metric_cases._base import PT, Inputs, case, probs, reg_pair


def _ens(rng: np.random.Generator) -> Inputs:
    y = rng.normal(size=30)
    return (y[:, None] + rng.normal(size=(30, 9)), y), {}


def _crps_ref(e: np.ndarray, y: np.ndarray, fair: bool = False) -> float:
    m = e.shape[1]
    pair = np.abs(e[:, :, None] - e[:, None, :]).sum(axis=(1, 2))
    spread = pair / (2 * m * (m - 1)) if fair else pair / (2 * m * m)
    return float(np.mean(np.abs(e - y[:, None]).mean(1) - spread))


def _energy_ref(e: np.ndarray, y: np.ndarray) -> float:
    out = [np.linalg.norm(x - o, axis=1).mean() - 0.5 * ssd.cdist(x, x).mean() for x, o in zip(e, y, strict=True)]
    return float(np.mean(out))


def _rps_ref(p: np.ndarray, y: np.ndarray) -> float:
    k = p.shape[1]
    return float(np.mean(np.sum((np.cumsum(p, 1) - np.cumsum(np.eye(k)[y], 1)) ** 2, 1) / (k - 1)))


def _mase_case(rng: np.random.Generator) -> Inputs:
    p, t = reg_pair(rng, 12)
    return (p, t), {"history": np.cumsum(rng.normal(size=40)), "season": 4}


case("crps", PT, _ens, _crps_ref)
case("fair_crps", PT, _ens, lambda e, y: _crps_ref(e, y, fair=True))
case("energy_score", PT, lambda rng: ((rng.normal(size=(10, 6, 3)), rng.normal(size=(10, 3))), {}), _energy_ref)
case("ranked_probability_score", PT, lambda rng: (probs(rng, 5), {}), _rps_ref)
case("mase", PT, _mase_case,
     lambda p, t, history, season: np.mean(np.abs(p - t)) / np.mean(np.abs(history[season:] - history[:-season])))
