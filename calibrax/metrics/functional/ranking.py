"""Ranking metrics: ``fn(scores, relevance)`` with one row per query, ``(queries, items)``.

Items are ranked by descending score (ties by position); an item is relevant when its
relevance is positive. Values are averaged over queries. ``k=None`` uses every item.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_ndim, check_same_shape, safe_div
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "coverage", "dcg", "hit_rate", "label_ranking_average_precision", "mean_average_precision", "mrr",
    "ndcg", "precision_at_k", "recall_at_k",
]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="ranking")
_RANK: dict[str, Any] = {"non_negative": True, "invariances": {"permutation", "translation", "scale"}}


def _ranked(scores: ArrayLike, relevance: ArrayLike, k: int | None) -> tuple[Array, Array, int]:
    s, r = as_float(scores, "scores"), as_float(relevance, "relevance")
    if s.ndim == 1:
        s, r = s[None, :], r[None, :]
    check_same_shape(s, r, ("scores", "relevance"))
    check_ndim(s, "scores", (2,))
    kk = s.shape[1] if k is None else int(k)
    if not 1 <= kk:
        raise MetricInputError(f"k must be a positive integer; got {k!r}.")
    order = jnp.argsort(-s, axis=1, stable=True)
    return jnp.take_along_axis(r, order, axis=1), r, min(kk, s.shape[1])


def _discount(n: int, dtype: jnp.dtype) -> Array:
    return 1.0 / jnp.log2(jnp.arange(2, n + 2, dtype=dtype))


@_metric("dcg", Direction.HIGHER, _PT, **_RANK)
def dcg(scores: ArrayLike, relevance: ArrayLike, *, k: int | None = None) -> Array:
    """Discounted cumulative gain, sum rel_i / log2(i + 1) over the top k (scikit-learn's).

    Example:
        >>> round(float(dcg(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[3.0, 1.0, 0.0]]))), 6)
        3.5
    """
    ranked, _, kk = _ranked(scores, relevance, k)
    return jnp.mean(ranked[:, :kk] @ _discount(kk, ranked.dtype))


@_metric("ndcg", Direction.HIGHER, _PT, **_RANK)
def ndcg(scores: ArrayLike, relevance: ArrayLike, *, k: int | None = None) -> Array:
    """Normalised DCG: DCG over the DCG of the ideal order (0 for a query with no gain).

    Example:
        >>> round(float(ndcg(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[3.0, 1.0, 0.0]]))), 4)
        0.9639

    References:
        Jarvelin and Kekalainen (2002), Cumulated gain-based evaluation of IR techniques.
    """
    ranked, r, kk = _ranked(scores, relevance, k)
    disc = _discount(kk, ranked.dtype)
    ideal = -jnp.sort(-r, axis=1)[:, :kk] @ disc
    return jnp.mean(safe_div(ranked[:, :kk] @ disc, ideal))


@_metric("mrr", Direction.HIGHER, _PT, **_RANK)
def mrr(scores: ArrayLike, relevance: ArrayLike, *, k: int | None = None) -> Array:
    """Mean reciprocal rank of the first relevant item (0 when none is in the top k).

    Example:
        >>> float(mrr(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[0, 0, 1]])))
        0.5
    """
    ranked, _, kk = _ranked(scores, relevance, k)
    rel = ranked[:, :kk] > 0
    first = jnp.argmax(rel, axis=1)
    return jnp.mean(jnp.where(rel.any(axis=1), 1.0 / (first + 1.0), 0.0))


@_metric("mean_average_precision", Direction.HIGHER, _PT, **_RANK)
def mean_average_precision(scores: ArrayLike, relevance: ArrayLike, *, k: int | None = None) -> Array:
    """MAP: per query, the mean of precision@i over relevant ranks i <= k, divided by
    min(k, relevant items); averaged over queries.

    Example:
        >>> round(float(mean_average_precision(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[1, 1, 0]]))), 6)
        0.833333
    """
    ranked, r, kk = _ranked(scores, relevance, k)
    rel = (ranked[:, :kk] > 0).astype(ranked.dtype)
    prec = jnp.cumsum(rel, axis=1) / jnp.arange(1, kk + 1, dtype=rel.dtype)
    n_rel = jnp.minimum(jnp.sum(r > 0, axis=1), kk).astype(rel.dtype)
    return jnp.mean(safe_div(jnp.sum(prec * rel, axis=1), n_rel))


@_metric("precision_at_k", Direction.HIGHER, _PT, **_RANK)
def precision_at_k(scores: ArrayLike, relevance: ArrayLike, *, k: int = 5) -> Array:
    """Fraction of the top k items that are relevant.

    Example:
        >>> float(precision_at_k(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[1, 1, 0]]), k=2))
        0.5
    """
    ranked, _, kk = _ranked(scores, relevance, k)
    return jnp.mean(jnp.sum(ranked[:, :kk] > 0, axis=1) / kk)


@_metric("recall_at_k", Direction.HIGHER, _PT, **_RANK)
def recall_at_k(scores: ArrayLike, relevance: ArrayLike, *, k: int = 5) -> Array:
    """Fraction of the relevant items found in the top k (0 for a query with none).

    Example:
        >>> float(recall_at_k(jnp.array([[0.9, 0.1, 0.5]]), jnp.array([[1, 1, 0]]), k=2))
        0.5
    """
    ranked, r, kk = _ranked(scores, relevance, k)
    found = jnp.sum(ranked[:, :kk] > 0, axis=1).astype(ranked.dtype)
    return jnp.mean(safe_div(found, jnp.sum(r > 0, axis=1).astype(ranked.dtype)))


@_metric("hit_rate", Direction.HIGHER, _PT, **_RANK)
def hit_rate(scores: ArrayLike, relevance: ArrayLike, *, k: int = 5) -> Array:
    """Fraction of queries with at least one relevant item in the top k.

    Example:
        >>> float(hit_rate(jnp.array([[0.9, 0.1, 0.5], [0.1, 0.2, 0.3]]), jnp.array([[0, 1, 0], [1, 0, 0]]), k=1))
        0.0
    """
    ranked, _, kk = _ranked(scores, relevance, k)
    return jnp.mean(jnp.any(ranked[:, :kk] > 0, axis=1).astype(ranked.dtype))


@_metric("label_ranking_average_precision", Direction.HIGHER, _PT, **_RANK)
def label_ranking_average_precision(scores: ArrayLike, relevance: ArrayLike) -> Array:
    """Label ranking average precision (scikit-learn's; ties counted as ranked higher).

    For each relevant label: the fraction of labels scored at least as high that are relevant;
    averaged per query, then over queries (a query with no or all relevant labels scores 1).

    Example:
        >>> round(float(label_ranking_average_precision(jnp.array([[0.75, 0.5, 1.0]]), jnp.array([[1, 0, 0]]))), 6)
        0.5
    """
    s, r = as_float(scores, "scores"), as_float(relevance, "relevance")
    check_same_shape(s, r, ("scores", "relevance"))
    check_ndim(s, "scores", (2,))
    rel = (r > 0).astype(s.dtype)
    at_least = (s[:, None, :] >= s[:, :, None]).astype(s.dtype)  # [q, i, j]: j ranks at or above i
    rank = at_least.sum(axis=2)
    rel_rank = at_least @ rel[:, :, None]
    per = jnp.sum(rel * rel_rank[..., 0] / rank, axis=1)
    n_rel = rel.sum(axis=1)
    trivial = (n_rel == 0) | (n_rel == s.shape[1])
    return jnp.mean(jnp.where(trivial, 1.0, safe_div(per, n_rel)))


@_metric("coverage", Direction.HIGHER, Signature.SINGLE, non_negative=True,
         invariances={"permutation", "translation", "scale"})
def coverage(scores: ArrayLike, *, k: int = 5) -> Array:
    """Catalogue coverage: the fraction of items that appear in some query's top k.

    Example:
        >>> float(coverage(jnp.array([[0.9, 0.1, 0.5, 0.0], [0.8, 0.2, 0.1, 0.0]]), k=1))
        0.25
    """
    s = as_float(scores, "scores")
    check_ndim(s, "scores", (2,))
    kk = min(int(k), s.shape[1])
    order = jnp.argsort(-s, axis=1, stable=True)[:, :kk]
    shown = jnp.zeros(s.shape[1], bool).at[order.ravel()].set(True)
    return jnp.mean(shown.astype(s.dtype))
