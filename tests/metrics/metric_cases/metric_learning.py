"""Reference rows of the metric-learning losses: plain float64 loops over pairs and triplets.

The loop references (and the miners') are also used by tests/metrics/test_learning.py for the
options a single row cannot cover (mined triplets, squared distances).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from metric_cases._base import EL, Inputs, Z, case

BATCH, DIM, CLASSES = 12, 5, 4


def batch(rng: np.random.Generator, n: int = BATCH, d: int = DIM, k: int = CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings near their class centres, every class at least twice (so positives exist)."""
    y = rng.permutation(np.resize(np.arange(k), n)).astype(np.int32)
    centres = rng.normal(size=(k, d))
    return centres[y] * 0.8 + 0.6 * rng.normal(size=(n, d)), y


def _dist(a: np.ndarray, b: np.ndarray, squared: bool = False) -> float:
    sq = float(sum((float(u) - float(v)) ** 2 for u, v in zip(a, b, strict=True)))
    return sq if squared else math.sqrt(sq)


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, np.float64) / math.sqrt(float(np.sum(np.asarray(v, np.float64) ** 2)))


def contrastive_ref(x: np.ndarray, y: np.ndarray, margin: float = 1.0) -> float:
    total, pairs = 0.0, 0
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            d = _dist(x[i], x[j])
            total += 0.5 * (d * d if y[i] == y[j] else max(0.0, margin - d) ** 2)
            pairs += 1
    return total / pairs


def valid_triplets(y: np.ndarray) -> list[tuple[int, int, int]]:
    n = len(y)
    return [(a, p, q) for a in range(n) for p in range(n) for q in range(n)
            if a != p and y[a] == y[p] and y[q] != y[a]]


def mined_ref(x: np.ndarray, y: np.ndarray, margin: float | None, squared: bool = False) -> list[tuple[int, int, int]]:
    """For each anchor-positive pair, the nearest negative; with a margin, only semi-hard ones."""
    out = []
    n = len(y)
    for a in range(n):
        for p in range(n):
            if a == p or y[a] != y[p]:
                continue
            d_ap = _dist(x[a], x[p], squared)
            best, best_d = None, math.inf
            for q in range(n):
                if y[q] == y[a]:
                    continue
                d_an = _dist(x[a], x[q], squared)
                if margin is not None and not d_ap < d_an < d_ap + margin:
                    continue
                if d_an < best_d:
                    best, best_d = q, d_an
            if best is not None:
                out.append((a, p, best))
    return out


def triplet_ref(x: np.ndarray, y: np.ndarray, margin: float = 1.0, mining: str = "all", squared: bool = False) -> float:
    if mining == "all":
        triplets = valid_triplets(y)
    else:
        triplets = mined_ref(x, y, margin if mining == "semi_hard" else None, squared)
    losses = [max(0.0, _dist(x[a], x[p], squared) - _dist(x[a], x[q], squared) + margin) for a, p, q in triplets]
    return sum(losses) / len(losses) if losses else 0.0


def nt_xent_ref(z1: np.ndarray, z2: np.ndarray, temperature: float = 0.5) -> float:
    z = [_unit(r) for r in np.concatenate([z1, z2])]
    n2, n = len(z), len(z1)
    total = 0.0
    for i in range(n2):
        partner = (i + n) % n2
        denom = sum(math.exp(float(z[i] @ z[k]) / temperature) for k in range(n2) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[partner]) / temperature) / denom)
    return total / n2


def margin_softmax_ref(x: np.ndarray, y: np.ndarray, class_weights: np.ndarray, scale: float, margin: float,
                       kind: str) -> float:
    total = 0.0
    for xi, yi in zip(x, y, strict=True):
        logits = []
        for j, wj in enumerate(class_weights):
            c = float(_unit(xi) @ _unit(wj))
            if j == yi:
                c = math.cos(math.acos(max(-1.0, min(1.0, c))) + margin) if kind == "arc" else c - margin
            logits.append(scale * c)
        top = max(logits)
        total += top + math.log(sum(math.exp(v - top) for v in logits)) - logits[yi]
    return total / len(y)


def proxy_nca_ref(x: np.ndarray, y: np.ndarray, proxies: np.ndarray, scale: float = 1.0) -> float:
    total = 0.0
    for xi, yi in zip(x, y, strict=True):
        d = [scale * _dist(_unit(xi), _unit(p), squared=True) for p in proxies]
        total += d[yi] + math.log(sum(math.exp(-dz) for z, dz in enumerate(d) if z != yi))
    return total / len(y)


def proxy_anchor_ref(x: np.ndarray, y: np.ndarray, proxies: np.ndarray, alpha: float = 32.0,
                     delta: float = 0.1) -> float:
    pos, neg, with_pos = 0.0, 0.0, 0
    for c, p in enumerate(proxies):
        sims = [float(_unit(p) @ _unit(xi)) for xi in x]
        of_c = [s for s, yi in zip(sims, y, strict=True) if yi == c]
        if of_c:
            with_pos += 1
            pos += math.log(1 + sum(math.exp(-alpha * (s - delta)) for s in of_c))
        neg += math.log(1 + sum(math.exp(alpha * (s + delta)) for s, yi in zip(sims, y, strict=True) if yi != c))
    return pos / with_pos + neg / len(proxies)


def _with_table(key: str, k: int = CLASSES + 1, **kw: float) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        x, y = batch(rng)
        return (x, y), {key: rng.normal(size=(k, DIM)), **kw}
    return make


def _views(rng: np.random.Generator) -> Inputs:
    z1 = rng.normal(size=(8, DIM))
    return (z1, z1 + 0.5 * rng.normal(size=z1.shape)), {"temperature": 0.3}


case("contrastive_loss", EL, lambda rng: (batch(rng), {"margin": 2.5}), contrastive_ref)
case("triplet_loss", EL, lambda rng: (batch(rng), {"margin": 1.5}), triplet_ref)
case("nt_xent_loss", Z, _views, nt_xent_ref)
case("arcface_loss", EL, _with_table("class_weights", scale=16.0, margin=0.3),
     lambda x, y, class_weights, scale, margin: margin_softmax_ref(x, y, class_weights, scale, margin, "arc"))
case("cosface_loss", EL, _with_table("class_weights", scale=16.0, margin=0.25),
     lambda x, y, class_weights, scale, margin: margin_softmax_ref(x, y, class_weights, scale, margin, "cos"))
case("proxy_nca_loss", EL, _with_table("proxies", scale=3.0), proxy_nca_ref)
case("proxy_anchor_loss", EL, _with_table("proxies", alpha=16.0, delta=0.1), proxy_anchor_ref)
