"""Reference rows of the information metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.stats as sst
import sklearn.metrics as skm

from metric_cases._base import PQ, XY, Inputs, X, case, labels, simplex
from metric_cases.divergence import _pq, _rows


def _labelings(k: int, nc: bool = True) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        p, t = labels(rng, k, n=80)
        return (p, t), ({"num_classes": k} if nc else {})
    return make


def _h(counts: np.ndarray) -> float:
    return float(sst.entropy(counts[counts > 0]))


def _joint(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return skm.cluster.contingency_matrix(x, y)


case("entropy", X, lambda rng: ((simplex(rng, 10, (2,)) * 3.0,), {"base": 2.0}),
     lambda p, base: np.mean(sst.entropy(p, base=base, axis=-1)))
case("cross_entropy", PQ, _pq, _rows(lambda p, q: -np.sum(p * np.log(q))))
case("mutual_information", XY, _labelings(4), lambda x, y, num_classes: skm.mutual_info_score(x, y))
case("normalized_mutual_information", XY, _labelings(4),
     lambda x, y, num_classes: skm.normalized_mutual_info_score(x, y))
case("joint_entropy", XY, _labelings(3), lambda x, y, num_classes: _h(_joint(x, y).ravel()))
case("conditional_entropy", XY, _labelings(3),
     lambda x, y, num_classes: _h(_joint(x, y).ravel()) - _h(np.bincount(y)))
case("variation_of_information", XY, _labelings(3),
     lambda x, y, num_classes: 2 * _h(_joint(x, y).ravel()) - _h(np.bincount(x)) - _h(np.bincount(y)))
