"""Reference rows of the generative metrics."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.spatial.distance as ssd
import scipy.stats as sst

from metric_cases._base import RG, Inputs, X, case, probs


def _feats(rng: np.random.Generator, n: int = 40, m: int = 36, d: int = 5) -> Inputs:
    mix = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ mix, rng.normal(size=(m, d)) @ (mix + 0.3 * rng.normal(size=(d, d))) + 0.2), {}


def _fid_ref(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = sla.sqrtm(c1 @ c2).real
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(c1 + c2 - 2 * covmean))


def _kid_ref(a: np.ndarray, b: np.ndarray) -> float:
    d = a.shape[1]
    k = lambda u, v: (u @ v.T / d + 1) ** 3  # noqa: E731
    n, m = len(a), len(b)
    kaa, kbb = k(a, a), k(b, b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2 * k(a, b).mean())


def _is_ref(p: np.ndarray) -> float:
    marg = p.mean(0)
    return float(np.exp(np.mean([sst.entropy(row, marg) for row in p])))


def _prd_ref(support: np.ndarray, queries: np.ndarray, k: int) -> float:
    radius = np.sort(ssd.cdist(support, support), axis=1)[:, k]
    return float(np.mean((ssd.cdist(queries, support) <= radius[None, :]).any(axis=1)))


def _mem_ref(train: np.ndarray, gen: np.ndarray, ratio: float) -> float:
    d = np.sort(ssd.cdist(gen, train), axis=1)
    return float(np.mean(d[:, 0] < ratio * d[:, 1]))


def _memo(rng: np.random.Generator) -> Inputs:
    train = rng.normal(size=(30, 4))
    gen = np.concatenate([train[:8] + 0.01 * rng.normal(size=(8, 4)), rng.normal(size=(12, 4))])
    return (train, gen), {"ratio": 1 / 3}


case("frechet_distance", RG, _feats, _fid_ref, rtol=1e-4, atol=1e-5)  # non-commuting covariances
case("kid", RG, _feats, _kid_ref, rtol=1e-4, atol=1e-4)
case("inception_score", X, lambda rng: ((probs(rng, 6)[0],), {}), _is_ref)
case("manifold_precision", RG, lambda rng: (_feats(rng)[0], {"k": 3}), lambda a, b, k: _prd_ref(a, b, k))
case("manifold_recall", RG, lambda rng: (_feats(rng)[0], {"k": 3}), lambda a, b, k: _prd_ref(b, a, k))
case("memorization_rate", RG, _memo, _mem_ref)
