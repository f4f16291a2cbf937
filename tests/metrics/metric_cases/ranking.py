"""Reference rows of the ranking metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import PT, Inputs, X, case


def _queries(rng: np.random.Generator, k: int | None = None, graded: bool = False) -> Inputs:
    s = rng.normal(size=(6, 10))
    rel = rng.integers(0, 4, (6, 10)) if graded else (rng.random((6, 10)) < 0.3).astype(np.int32)
    rel[0] = 0  # a query with nothing relevant
    return (s, rel.astype(np.int32)), ({} if k is None else {"k": k})


def _topk(s: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def _per_query(fn: Callable[..., float]) -> Callable[..., float]:
    def ref(s: np.ndarray, r: np.ndarray, **kw: Any) -> float:
        return float(np.mean([fn(a, b, **kw) for a, b in zip(s, r, strict=True)]))
    return ref


def _mrr_q(s: np.ndarray, r: np.ndarray, k: int | None = None) -> float:
    order = np.argsort(-s, kind="stable")[: k or len(s)]
    hits = np.nonzero(r[order] > 0)[0]
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def _ap_q(s: np.ndarray, r: np.ndarray, k: int | None = None) -> float:
    k = k or len(s)
    order = np.argsort(-s, kind="stable")[:k]
    hits, total = 0, 0.0
    for i, item in enumerate(order, start=1):
        if r[item] > 0:
            hits += 1
            total += hits / i
    n_rel = min(int(np.sum(r > 0)), k)
    return total / n_rel if n_rel else 0.0


def _recall_q(s: np.ndarray, r: np.ndarray, k: int) -> float:
    n = np.sum(r > 0)
    return float(np.sum(r[np.argsort(-s, kind="stable")[:k]] > 0) / n) if n else 0.0


case("dcg", PT, lambda rng: _queries(rng, 5, graded=True), lambda s, r, k: skm.dcg_score(r, s, k=k))
case("ndcg", PT, lambda rng: _queries(rng, None, graded=True), lambda s, r: skm.ndcg_score(r, s))
case("mrr", PT, lambda rng: _queries(rng, 4), _per_query(_mrr_q))
case("mean_average_precision", PT, lambda rng: _queries(rng, 6), _per_query(_ap_q))
case("precision_at_k", PT, lambda rng: _queries(rng, 3),
     _per_query(lambda s, r, k: np.mean(r[np.argsort(-s, kind="stable")[:k]] > 0)))
case("recall_at_k", PT, lambda rng: _queries(rng, 3), _per_query(_recall_q))
case("hit_rate", PT, lambda rng: _queries(rng, 2),
     _per_query(lambda s, r, k: float(np.any(r[np.argsort(-s, kind="stable")[:k]] > 0))))


def _lrap(rng: np.random.Generator) -> Inputs:
    (s, r), _ = _queries(rng)
    r[0, 0] = 1
    return (s, r), {}


case("label_ranking_average_precision", PT, _lrap, lambda s, r: skm.label_ranking_average_precision_score(r > 0, s))
case("coverage", X, lambda rng: ((rng.normal(size=(5, 30)),), {"k": 3}),
     lambda s, k: len(np.unique(_topk(s, k))) / s.shape[1])
