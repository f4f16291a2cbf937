"""Reference rows of the fairness metrics."""

from __future__ import annotations

from typing import Any

import numpy as np

from metric_cases._base import PTG, Inputs, N, case


def _fair(rng: np.random.Generator, **kw: Any) -> Inputs:
    g = rng.integers(0, 3, N)
    t = (rng.random(N) < 0.5).astype(np.int32)
    p = np.where(rng.random(N) < 0.3 + 0.2 * g, 1 - t, t).astype(np.int32)
    return (p, t, g.astype(np.int32)), {"num_groups": 3, **kw}


def _group_rates(p: np.ndarray, sel: np.ndarray, g: np.ndarray, k: int) -> list[float]:
    return [p[(g == j) & sel].mean() for j in range(k) if np.any((g == j) & sel)]


def _dpd(p: np.ndarray, t: np.ndarray, g: np.ndarray, num_groups: int) -> float:
    r = _group_rates(p, np.ones_like(p, bool), g, num_groups)
    return max(r) - min(r)


def _eod(p: np.ndarray, t: np.ndarray, g: np.ndarray, num_groups: int) -> float:
    tpr, fpr = _group_rates(p, t == 1, g, num_groups), _group_rates(p, t == 0, g, num_groups)
    return max(max(tpr) - min(tpr), max(fpr) - min(fpr))


def _di(p: np.ndarray, t: np.ndarray, g: np.ndarray, num_groups: int, privileged: int) -> float:
    return float(p[g != privileged].mean() / p[g == privileged].mean())


case("demographic_parity_difference", PTG, _fair, _dpd)
case("demographic_parity_ratio", PTG, _fair,
     lambda p, t, g, num_groups: min(r := _group_rates(p, np.ones_like(p, bool), g, num_groups)) / max(r))
case("equal_opportunity_difference", PTG, _fair,
     lambda p, t, g, num_groups: max(r := _group_rates(p, t == 1, g, num_groups)) - min(r))
case("equalized_odds_difference", PTG, _fair, _eod)
case("disparate_impact", PTG, lambda rng: _fair(rng, privileged=2), _di)
