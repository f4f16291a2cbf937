"""Reference rows of the graph metrics."""

from __future__ import annotations

import numpy as np
import scipy.sparse.csgraph as csg

from metric_cases._base import XY, Inputs, case


def _graphs(rng: np.random.Generator, n: int = 7) -> Inputs:
    out = []
    for _ in range(2):
        w = np.triu(rng.uniform(0.5, 2.0, (n, n)) * (rng.random((n, n)) < 0.6), 1)
        w[np.arange(n - 1), np.arange(1, n)] = rng.uniform(0.5, 2.0, n - 1)  # a path keeps it connected
        out.append(w + w.T)
    return tuple(out), {}


def _lap(a: np.ndarray) -> np.ndarray:
    return np.diag(a.sum(1)) - a


def _res(a: np.ndarray) -> np.ndarray:
    lp = np.linalg.pinv(_lap(a))
    return np.diag(lp)[:, None] + np.diag(lp)[None, :] - 2 * lp


case("spectral_distance", XY, _graphs,
     lambda a, b: np.linalg.norm(np.linalg.eigvalsh(_lap(a)) - np.linalg.eigvalsh(_lap(b))))
case("shortest_path_distance", XY, _graphs,
     lambda a, b: np.mean(np.abs(csg.shortest_path(a, directed=False) - csg.shortest_path(b, directed=False))))
case("resistance_distance", XY, _graphs, lambda a, b: np.mean(np.abs(_res(a) - _res(b))), rtol=1e-4, atol=1e-5)
