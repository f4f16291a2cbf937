"""Reference rows of the calibration metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import PT, Inputs, case, probs


def _bins_ref(conf: np.ndarray, hit: np.ndarray, n_bins: int) -> tuple[list[float], list[int]]:
    gaps, sizes = [], []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        sel = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if sel.any():
            gaps.append(abs(hit[sel].mean() - conf[sel].mean()))
            sizes.append(int(sel.sum()))
    return gaps, sizes


def _ece_ref(p: np.ndarray, t: np.ndarray, n_bins: int, kind: str = "ece") -> float:
    conf, hit = p.max(axis=1), (p.argmax(axis=1) == t).astype(float)
    if kind == "ace":
        order = np.argsort(conf, kind="stable")
        chunks = [order[(np.arange(len(conf)) * n_bins) // len(conf) == b] for b in range(n_bins)]
        gaps = [abs(hit[c].mean() - conf[c].mean()) for c in chunks if len(c)]
        return float(np.mean(gaps))
    gaps, sizes = _bins_ref(conf, hit, n_bins)
    return float(max(gaps)) if kind == "mce" else float(np.dot(gaps, sizes) / len(conf))


def _classwise_ref(p: np.ndarray, t: np.ndarray, n_bins: int) -> float:
    out = []
    for k in range(p.shape[1]):
        gaps, sizes = _bins_ref(p[:, k], (t == k).astype(float), n_bins)
        out.append(np.dot(gaps, sizes) / len(t))
    return float(np.mean(out))


def _cal(k: int, **kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        p, t = probs(rng, k, n=200)
        return (p[:, 1] if k == 2 else p, t), dict(kw)
    return make


def _brier_ref(p: np.ndarray, t: np.ndarray) -> float:
    if p.ndim == 1:
        return skm.brier_score_loss(t, p)
    return float(np.mean(np.sum((p - np.eye(p.shape[1])[t]) ** 2, axis=1)))


case("brier_score", PT, _cal(4), _brier_ref)
case("ece", PT, _cal(5, n_bins=10), lambda p, t, n_bins: _ece_ref(p, t, n_bins))
case("mce", PT, _cal(3, n_bins=8), lambda p, t, n_bins: _ece_ref(p, t, n_bins, "mce"))
case("ace", PT, _cal(4, n_bins=10), lambda p, t, n_bins: _ece_ref(p, t, n_bins, "ace"))
case("classwise_ece", PT, _cal(3, n_bins=10), _classwise_ref)
