"""Reference rows of the clustering metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import FL, TP, Inputs, N, case, labels


def _clusterings(k: int) -> Callable[[np.random.Generator], Inputs]:
    """(targets, predictions), scikit-learn's (labels_true, labels_pred); rows say so with TP."""
    def make(rng: np.random.Generator) -> Inputs:
        p, t = labels(rng, k)
        return (t, p), {"num_clusters": k}
    return make


def _blobs(rng: np.random.Generator) -> Inputs:
    k = 4
    lab = rng.integers(0, k, N)
    centers = rng.normal(scale=3.0, size=(k, 3))
    return (centers[lab] + rng.normal(size=(N, 3)), lab.astype(np.int32)), {"num_clusters": k}


def _skcl(fn: Callable[..., Any]) -> Callable[..., Any]:
    """scikit-learn's clustering scores take (labels_true, labels_pred) or (X, labels)."""
    return lambda first, second, num_clusters: fn(first, second)


case("rand_index", TP, _clusterings(4), _skcl(skm.rand_score))
case("adjusted_rand_index", TP, _clusterings(4), _skcl(skm.adjusted_rand_score))
case("adjusted_mutual_information", TP, _clusterings(3), _skcl(skm.adjusted_mutual_info_score), rtol=1e-4)
case("normalized_mutual_info_clustering", TP, _clusterings(5), _skcl(skm.normalized_mutual_info_score))
case("v_measure", TP, _clusterings(4), _skcl(skm.v_measure_score))
case("homogeneity", TP, _clusterings(4), _skcl(skm.homogeneity_score))
case("completeness", TP, _clusterings(3), _skcl(skm.completeness_score))
case("fowlkes_mallows", TP, _clusterings(4), _skcl(skm.fowlkes_mallows_score))
case("silhouette_score", FL, _blobs, _skcl(skm.silhouette_score))
case("calinski_harabasz", FL, _blobs, _skcl(skm.calinski_harabasz_score), rtol=1e-4)
case("davies_bouldin", FL, _blobs, _skcl(skm.davies_bouldin_score))
