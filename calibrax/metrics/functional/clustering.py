"""Clustering scores, as in ``sklearn.metrics.cluster``.

With ground truth: ``fn(predictions, targets)``, integer labelings of the same samples: the
cluster ids found first, the ground-truth classes second (the order of every calibrax metric,
the reverse of scikit-learn's ``fn(labels_true, labels_pred)``). Without ground truth:
``fn(features, labels)`` with features ``(n, d)``. Outside ``jax.jit`` the number of clusters is
read from the labels; inside, pass ``num_clusters``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import gammaln
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import (
    as_float,
    as_int,
    check_ndim,
    infer_num_classes,
    pairwise_sq_dists,
    safe_div,
)
from calibrax.metrics.functional._contingency import contingency, entropy_of_counts, mutual_info_of
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "adjusted_mutual_information", "adjusted_rand_index", "calinski_harabasz", "completeness",
    "davies_bouldin", "fowlkes_mallows", "homogeneity", "normalized_mutual_info_clustering", "rand_index",
    "silhouette_score", "v_measure",
]

_metric = partial(builtin, domain="clustering")
_TL = Signature.PREDICTIONS_TARGETS
_SYM: dict[str, Any] = {"symmetric": True, "invariances": {"permutation", "relabeling"}}
_NAMES = ("targets", "predictions")


def _table(predictions: ArrayLike, targets: ArrayLike, num_clusters: int | None) -> Array:
    """Counts n_ck of samples of class c (rows, from targets) in cluster k (columns)."""
    return contingency(targets, predictions, num_clusters, _NAMES)


def _pairs(x: Array) -> Array:
    return x * (x - 1) / 2.0


@_metric("rand_index", Direction.HIGHER, _TL, non_negative=True, **_SYM)
def rand_index(predictions: ArrayLike, targets: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Rand index: the fraction of sample pairs on which the two labelings agree.

    Example:
        >>> float(rand_index(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0

    References:
        Rand (1971), Objective criteria for the evaluation of clustering methods.
    """
    t = _table(predictions, targets, num_clusters)
    n = t.sum()
    same_both = jnp.sum(_pairs(t))
    same_a, same_b = jnp.sum(_pairs(t.sum(axis=1))), jnp.sum(_pairs(t.sum(axis=0)))
    total = _pairs(n)
    return safe_div(total + 2.0 * same_both - same_a - same_b, total, fill=1.0)


@_metric("adjusted_rand_index", Direction.HIGHER, _TL, **_SYM)
def adjusted_rand_index(predictions: ArrayLike, targets: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Adjusted Rand index (Hubert and Arabie), 0 for chance, 1 for identical partitions.

    Example:
        >>> float(adjusted_rand_index(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0

    References:
        Hubert and Arabie (1985), Comparing partitions.
    """
    t = _table(predictions, targets, num_clusters)
    index = jnp.sum(_pairs(t))
    a, b = jnp.sum(_pairs(t.sum(axis=1))), jnp.sum(_pairs(t.sum(axis=0)))
    expected = a * b / _pairs(t.sum())
    max_index = 0.5 * (a + b)
    return safe_div(index - expected, max_index - expected, fill=1.0)


def _h_pair(t: Array) -> tuple[Array, Array, Array]:
    return entropy_of_counts(t.sum(axis=1)), entropy_of_counts(t.sum(axis=0)), mutual_info_of(t)


@_metric("homogeneity", Direction.HIGHER, _TL, non_negative=True, invariances={"permutation", "relabeling"})
def homogeneity(predictions: ArrayLike, targets: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Homogeneity: each cluster holds members of a single class, 1 - H(C | K) / H(C).

    Args:
        predictions: the cluster id of each sample, K (scikit-learn's ``labels_pred``).
        targets: the ground-truth class of each sample, C (scikit-learn's ``labels_true``).
        num_clusters: how many ids the labelings use; static, required under ``jax.jit``.

    Example:
        >>> clusters, classes = jnp.array([0, 1, 2, 3]), jnp.array([0, 0, 1, 1])
        >>> float(homogeneity(clusters, classes))  # every cluster is pure
        1.0

    References:
        Rosenberg and Hirschberg (2007), V-Measure: a conditional entropy-based external cluster
        evaluation measure.
    """
    h_c, _, mi = _h_pair(_table(predictions, targets, num_clusters))
    return safe_div(mi, h_c, fill=1.0)


@_metric("completeness", Direction.HIGHER, _TL, non_negative=True, invariances={"permutation", "relabeling"})
def completeness(predictions: ArrayLike, targets: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Completeness: all members of a class are in one cluster, 1 - H(K | C) / H(K).

    Args:
        predictions: the cluster id of each sample, K (scikit-learn's ``labels_pred``).
        targets: the ground-truth class of each sample, C (scikit-learn's ``labels_true``).
        num_clusters: how many ids the labelings use; static, required under ``jax.jit``.

    Example:
        >>> clusters, classes = jnp.array([0, 1, 2, 3]), jnp.array([0, 0, 1, 1])
        >>> float(completeness(clusters, classes))  # each class is split over two clusters
        0.5

    References:
        Rosenberg and Hirschberg (2007), V-Measure.
    """
    _, h_k, mi = _h_pair(_table(predictions, targets, num_clusters))
    return safe_div(mi, h_k, fill=1.0)


@_metric("v_measure", Direction.HIGHER, _TL, non_negative=True, **_SYM)
def v_measure(predictions: ArrayLike, targets: ArrayLike, *, beta: float = 1.0,
              num_clusters: int | None = None) -> Array:
    """V-measure: the weighted harmonic mean of homogeneity and completeness.

    Args:
        predictions: the cluster id of each sample (scikit-learn's ``labels_pred``).
        targets: the ground-truth class of each sample (scikit-learn's ``labels_true``).
        beta: the weight of completeness against homogeneity; symmetric only at 1.
        num_clusters: how many ids the labelings use; static, required under ``jax.jit``.

    Example:
        >>> float(v_measure(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0

    References:
        Rosenberg and Hirschberg (2007), V-Measure.
    """
    h_c, h_k, mi = _h_pair(_table(predictions, targets, num_clusters))
    hom, com = safe_div(mi, h_c, fill=1.0), safe_div(mi, h_k, fill=1.0)
    return safe_div((1 + beta) * hom * com, beta * hom + com)


@_metric("normalized_mutual_info_clustering", Direction.HIGHER, _TL, non_negative=True, **_SYM)
def normalized_mutual_info_clustering(predictions: ArrayLike, targets: ArrayLike, *,
                                      num_clusters: int | None = None) -> Array:
    """Normalised mutual information with the arithmetic-mean normaliser (scikit-learn's).

    Example:
        >>> float(normalized_mutual_info_clustering(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0
    """
    h_c, h_k, mi = _h_pair(_table(predictions, targets, num_clusters))
    return jnp.where((h_c == 0) & (h_k == 0), 1.0, safe_div(mi, 0.5 * (h_c + h_k)))


def _expected_mi(t: Array, n_samples: int) -> Array:
    """E[MI] under the hypergeometric model of random labelings with these marginals.

    ``n_samples`` is static: the cell counts n_ij range over 1..n_samples.
    """
    n = t.sum()
    a, b = t.sum(axis=1), t.sum(axis=0)
    big_a, big_b = a[:, None, None], b[None, :, None]
    nij = jnp.arange(1, n_samples + 1, dtype=t.dtype)[None, None, :]
    valid = (nij >= jnp.maximum(1, big_a + big_b - n)) & (nij <= jnp.minimum(big_a, big_b))
    ab = big_a * big_b
    term = nij / n * (jnp.log(nij * n) - jnp.log(jnp.where(ab > 0, ab, 1.0)))
    log_p = (gammaln(big_a + 1) + gammaln(big_b + 1) + gammaln(n - big_a + 1) + gammaln(n - big_b + 1)
             - gammaln(n + 1) - gammaln(nij + 1) - gammaln(jnp.maximum(big_a - nij, 0) + 1)
             - gammaln(jnp.maximum(big_b - nij, 0) + 1) - gammaln(jnp.maximum(n - big_a - big_b + nij, 0) + 1))
    return jnp.sum(jnp.where(valid, term * jnp.exp(jnp.where(valid, log_p, 0.0)), 0.0))


@_metric("adjusted_mutual_information", Direction.HIGHER, _TL, **_SYM)
def adjusted_mutual_information(predictions: ArrayLike, targets: ArrayLike, *,
                                num_clusters: int | None = None) -> Array:
    """Adjusted mutual information (arithmetic normaliser), 0 for chance, 1 for identical.

    Example:
        >>> float(adjusted_mutual_information(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0

    References:
        Vinh, Epps and Bailey (2010), Information theoretic measures for clusterings comparison.
    """
    t = _table(predictions, targets, num_clusters)
    h_c, h_k, mi = _h_pair(t)
    emi = _expected_mi(t, int(jnp.shape(targets)[0]))
    den = 0.5 * (h_c + h_k) - emi
    eps = jnp.finfo(t.dtype).eps
    den = jnp.where(den < 0, jnp.minimum(den, -eps), jnp.maximum(den, eps))
    trivial = (jnp.sum(t.sum(axis=1) > 0) == 1) & (jnp.sum(t.sum(axis=0) > 0) == 1)
    return jnp.where(trivial, 1.0, (mi - emi) / den)


@_metric("fowlkes_mallows", Direction.HIGHER, _TL, non_negative=True, **_SYM)
def fowlkes_mallows(predictions: ArrayLike, targets: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Fowlkes-Mallows index TP / sqrt((TP + FP)(TP + FN)) over sample pairs.

    Example:
        >>> float(fowlkes_mallows(jnp.array([0, 0, 1, 1]), jnp.array([1, 1, 0, 0])))
        1.0

    References:
        Fowlkes and Mallows (1983), A method for comparing two hierarchical clusterings.
    """
    t = _table(predictions, targets, num_clusters)
    tk = jnp.sum(t * t) - t.sum()
    pk = jnp.sum(t.sum(axis=0) ** 2) - t.sum()
    qk = jnp.sum(t.sum(axis=1) ** 2) - t.sum()
    return safe_div(jnp.sqrt(tk / jnp.where(pk > 0, pk, 1.0)) * jnp.sqrt(tk / jnp.where(qk > 0, qk, 1.0)),
                    (pk > 0) & (qk > 0))


def _features(features: ArrayLike, labels: ArrayLike, num_clusters: int | None) -> tuple[Array, Array, int]:
    x, lab = as_float(features, "features"), as_int(labels, "labels")
    check_ndim(x, "features", (2,))
    check_ndim(lab, "labels", (1,))
    if lab.shape[0] != x.shape[0]:
        raise MetricInputError(f"labels must have one entry per row of features ({x.shape[0]}); got {lab.shape[0]}.")
    k = infer_num_classes(num_clusters, lab)
    return x, jax.nn.one_hot(lab, k, dtype=x.dtype), k


def _centroids(x: Array, onehot: Array) -> tuple[Array, Array]:
    size = onehot.sum(axis=0)
    return (onehot.T @ x) / jnp.where(size > 0, size, 1.0)[:, None], size


@_metric("silhouette_score", Direction.HIGHER, Signature.FEATURES_LABELS, differentiable=True,
         invariances={"permutation", "relabeling", "translation", "rotation", "scale"})
def silhouette_score(features: ArrayLike, labels: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Mean silhouette (b - a) / max(a, b) with Euclidean distances (0 for singletons).

    Example:
        >>> x = jnp.array([[0.0], [0.1], [5.0], [5.1]])
        >>> round(float(silhouette_score(x, jnp.array([0, 0, 1, 1]))), 4)
        0.98

    References:
        Rousseeuw (1987), Silhouettes: a graphical aid to the interpretation and validation of
        cluster analysis.
    """
    x, onehot, _ = _features(features, labels, num_clusters)
    sq = pairwise_sq_dists(x, x)
    d = jnp.where(sq > 0, jnp.sqrt(jnp.where(sq > 0, sq, 1.0)), 0.0)
    size = onehot.sum(axis=0)
    sums = d @ onehot  # [i, c]: total distance from i to cluster c
    own = jnp.sum(onehot * sums, axis=1)
    own_size = onehot @ size
    a = own / jnp.maximum(own_size - 1, 1)
    mean_other = jnp.where((onehot == 0) & (size > 0), sums / jnp.where(size > 0, size, 1.0), jnp.inf)
    b = jnp.min(mean_other, axis=1)
    s = safe_div(b - a, jnp.maximum(a, b))
    return jnp.mean(jnp.where(own_size > 1, s, 0.0))


@_metric("calinski_harabasz", Direction.HIGHER, Signature.FEATURES_LABELS, non_negative=True, differentiable=True,
         invariances={"permutation", "relabeling", "translation", "rotation", "scale"})
def calinski_harabasz(features: ArrayLike, labels: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Calinski-Harabasz index: between- over within-cluster dispersion, times (n - k) / (k - 1).

    Example:
        >>> x = jnp.array([[0.0], [1.0], [5.0], [6.0]])
        >>> float(calinski_harabasz(x, jnp.array([0, 0, 1, 1])))
        50.0

    References:
        Calinski and Harabasz (1974), A dendrite method for cluster analysis.
    """
    x, onehot, _ = _features(features, labels, num_clusters)
    cent, size = _centroids(x, onehot)
    k = jnp.sum(size > 0)
    between = jnp.sum(size * jnp.sum((cent - x.mean(axis=0)) ** 2, axis=1))
    within = jnp.sum((x - onehot @ cent) ** 2)
    n = x.shape[0]
    return safe_div(between * (n - k), within * (k - 1), fill=1.0)


@_metric("davies_bouldin", Direction.LOWER, Signature.FEATURES_LABELS, non_negative=True, differentiable=True,
         invariances={"permutation", "relabeling", "translation", "rotation", "scale"})
def davies_bouldin(features: ArrayLike, labels: ArrayLike, *, num_clusters: int | None = None) -> Array:
    """Davies-Bouldin index: mean over clusters of the worst (s_i + s_j) / d(c_i, c_j).

    Example:
        >>> x = jnp.array([[0.0], [1.0], [5.0], [6.0]])
        >>> round(float(davies_bouldin(x, jnp.array([0, 0, 1, 1]))), 4)
        0.2

    References:
        Davies and Bouldin (1979), A cluster separation measure.
    """
    x, onehot, _ = _features(features, labels, num_clusters)
    cent, size = _centroids(x, onehot)
    sq = jnp.sum((x - onehot @ cent) ** 2, axis=1)
    dist = jnp.where(sq > 0, jnp.sqrt(jnp.where(sq > 0, sq, 1.0)), 0.0)
    scatter = (onehot.T @ dist) / jnp.where(size > 0, size, 1.0)
    csq = pairwise_sq_dists(cent, cent)
    cdist = jnp.where(csq > 0, jnp.sqrt(jnp.where(csq > 0, csq, 1.0)), 0.0)
    present = size > 0
    pair_ok = present[:, None] & present[None, :] & ~jnp.eye(cent.shape[0], dtype=bool)
    ratio = jnp.where(pair_ok, safe_div(scatter[:, None] + scatter[None, :], cdist), -jnp.inf)
    worst = jnp.where(present, jnp.max(ratio, axis=1), 0.0)
    return jnp.sum(jnp.maximum(worst, 0.0)) / jnp.sum(present)
