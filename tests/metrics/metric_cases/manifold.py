"""Reference rows of the manifold metrics."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from metric_cases._base import XY, Inputs, case


def _spd_pair(rng: np.random.Generator, n: int = 4) -> Inputs:
    out = []
    for _ in range(2):
        a = rng.normal(size=(n, n))
        out.append(a @ a.T + 0.5 * np.eye(n))
    return tuple(out), {}


def _affine_ref(a: np.ndarray, b: np.ndarray) -> float:
    r = np.linalg.inv(sla.sqrtm(a))
    return float(np.linalg.norm(sla.logm(r @ b @ r), "fro"))


case("spd_affine_invariant", XY, _spd_pair, _affine_ref, rtol=1e-4)
case("spd_log_euclidean", XY, _spd_pair, lambda a, b: np.linalg.norm(sla.logm(a) - sla.logm(b), "fro"), rtol=1e-4)
case("grassmann", XY, lambda rng: ((rng.normal(size=(6, 2)), rng.normal(size=(6, 2))), {}),
     lambda a, b: np.linalg.norm(sla.subspace_angles(a, b)), rtol=1e-4)
