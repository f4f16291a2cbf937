"""Reference rows of the divergence metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.spatial.distance as ssd
import scipy.stats as sst

from metric_cases._base import PQ, XY, Inputs, case, simplex


def _pq(rng: np.random.Generator) -> Inputs:
    return (simplex(rng, 8, (3,)), simplex(rng, 8, (3,))), {}


def _rows(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    def ref(p: np.ndarray, q: np.ndarray, **kw: Any) -> float:
        return float(np.mean([fn(a, b, **kw) for a, b in zip(p, q, strict=True)]))
    return ref


def _samples1d(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=40), rng.normal(0.3, 1.2, size=30)), {}


def _clouds(rng: np.random.Generator, n: int = 24, m: int = 20) -> Inputs:
    return (rng.uniform(size=(n, 2)), rng.uniform(size=(m, 2)) + 0.2), {}


def _mmd_ref(x: np.ndarray, y: np.ndarray, bandwidth: float = 1.0) -> float:
    k = lambda a, b: np.exp(-ssd.cdist(a, b, "sqeuclidean") / (2 * bandwidth**2))  # noqa: E731
    return float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())


def _sinkhorn_ref(x: np.ndarray, y: np.ndarray, epsilon: float, iterations: int) -> float:
    cost = ssd.cdist(x, y, "sqeuclidean")
    kern = np.exp(-cost / epsilon)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    v = np.ones(len(y))
    for _ in range(iterations):
        u = a / (kern @ v)
        v = b / (kern.T @ u)
    return float(np.sum(u[:, None] * kern * v[None, :] * cost))


def _sliced(rng: np.random.Generator) -> Inputs:
    x, y = rng.normal(size=(2, 30, 3))
    return (x, y + 0.5), {"projections": rng.normal(size=(16, 3))}


def _sliced_ref(x: np.ndarray, y: np.ndarray, projections: np.ndarray) -> float:
    d = projections / np.linalg.norm(projections, axis=1, keepdims=True)
    return float(np.sqrt(np.mean((np.sort(x @ d.T, axis=0) - np.sort(y @ d.T, axis=0)) ** 2)))


def _renyi(p: np.ndarray, q: np.ndarray, alpha: float) -> float:
    return float(np.log(np.sum(p**alpha * q ** (1 - alpha))) / (alpha - 1))


case("kl_divergence", PQ, _pq, _rows(lambda p, q: sst.entropy(p, q)))
case("jeffreys", PQ, _pq, _rows(lambda p, q: sst.entropy(p, q) + sst.entropy(q, p)))
case("js_divergence", PQ, _pq, _rows(lambda p, q: ssd.jensenshannon(p, q) ** 2))
case("total_variation", PQ, _pq, _rows(lambda p, q: 0.5 * np.abs(p - q).sum()))
case("hellinger", PQ, _pq, _rows(lambda p, q: np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))))
case("bhattacharyya", PQ, _pq, _rows(lambda p, q: -np.log(np.sum(np.sqrt(p * q)))), rtol=1e-4, atol=1e-5)
case("chi_squared", PQ, _pq, _rows(lambda p, q: np.sum((p - q) ** 2 / q)))
case("renyi_divergence", PQ, lambda rng: (_pq(rng)[0], {"alpha": 2.5}), _rows(_renyi))
case("wasserstein_1d", XY, _samples1d, sst.wasserstein_distance)
case("energy_distance", XY, _samples1d, sst.energy_distance)
case("ks_statistic", XY, _samples1d, lambda x, y: sst.ks_2samp(x, y).statistic)
case("mmd", XY, lambda rng: (_clouds(rng)[0], {"bandwidth": 0.5}), _mmd_ref)
case("sinkhorn", XY, lambda rng: (_clouds(rng)[0], {"epsilon": 0.05, "iterations": 300}), _sinkhorn_ref, rtol=1e-4)
case("sliced_wasserstein", XY, _sliced, _sliced_ref)
