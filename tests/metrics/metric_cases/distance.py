"""Reference rows of the distance metrics."""

from __future__ import annotations

import numpy as np
import scipy.spatial.distance as ssd

from metric_cases._base import XY, Inputs, case


def _vec(rng: np.random.Generator, n: int = 12) -> Inputs:
    return (rng.normal(size=n), rng.normal(size=n)), {}


def _pos(rng: np.random.Generator) -> Inputs:
    return (rng.uniform(0.1, 2.0, 12), rng.uniform(0.1, 2.0, 12)), {}


def _bits(rng: np.random.Generator) -> Inputs:
    return (rng.integers(0, 2, 20).astype(np.int32), rng.integers(0, 2, 20).astype(np.int32)), {}


def _ball(rng: np.random.Generator) -> Inputs:
    x, y = rng.normal(size=(2, 4))
    return (0.8 * x / (1 + np.linalg.norm(x)), 0.8 * y / (1 + np.linalg.norm(y))), {}


def _maha(rng: np.random.Generator) -> Inputs:
    a = rng.normal(size=(5, 5))
    return (rng.normal(size=5), rng.normal(size=5)), {"inverse_covariance": a @ a.T + 0.5 * np.eye(5)}


def _poincare_ref(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.arccosh(1 + 2 * np.sum((x - y) ** 2) / ((1 - x @ x) * (1 - y @ y))))


def _angular_ref(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.arccos(np.clip(1 - ssd.cosine(x, y), -1, 1)) / np.pi)



case("euclidean", XY, _vec, ssd.euclidean)
case("sqeuclidean", XY, _vec, ssd.sqeuclidean)
case("manhattan", XY, _vec, ssd.cityblock)
case("chebyshev", XY, _vec, ssd.chebyshev)
case("minkowski", XY, lambda rng: (_vec(rng)[0], {"p": 3.0}), lambda x, y, p: ssd.minkowski(x, y, p))
case("cosine_distance", XY, _vec, ssd.cosine)
case("angular_distance", XY, _vec, _angular_ref, rtol=1e-4)
case("correlation_distance", XY, _vec, ssd.correlation)
case("canberra", XY, _vec, ssd.canberra)
case("braycurtis", XY, _pos, ssd.braycurtis)
case("mahalanobis", XY, _maha, lambda x, y, inverse_covariance: ssd.mahalanobis(x, y, inverse_covariance))
case("hamming_distance", XY, _bits, ssd.hamming)
case("jaccard_distance", XY, _bits, lambda x, y: ssd.jaccard(x.astype(bool), y.astype(bool)))
case("poincare", XY, _ball, _poincare_ref)
