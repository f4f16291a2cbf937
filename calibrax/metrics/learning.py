"""Tier 3: differentiable metric-learning losses and the triplet miners they use.

Losses over a batch take ``(embeddings, labels)``: ``embeddings`` of shape ``(n, d)`` and integer
class ids of shape ``(n,)``; NT-Xent takes two views ``(z1, z2)`` of one batch. Classifier-head
losses (ArcFace, CosFace) take the class-weight matrix, and proxy losses (ProxyNCA, ProxyAnchor)
the proxies, as a keyword argument of shape ``(K, d)``: one row per class, so that they can be
trained alongside the embedding network. Every loss is a pure function, jit-compatible, and
differentiable in the embeddings (and in the weights or proxies).

Miners return :class:`Triplets`: index arrays of a fixed length ``n * n`` (one slot per
anchor-positive pair) with a ``valid`` mask, so that they run under ``jax.jit``.

Example:
    >>> import jax.numpy as jnp
    >>> x = jnp.array([[0.0, 0.0], [0.1, 0.0], [3.0, 0.0], [3.1, 0.0]])
    >>> y = jnp.array([0, 0, 1, 1])
    >>> float(triplet_loss(x, y, margin=1.0))  # every negative is farther than positive + margin
    0.0
"""

from __future__ import annotations

from functools import partial
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, as_int, check_option, pairwise_sq_dists, safe_div
from calibrax.metrics.registry import Signature, Tier, builtin

__all__ = [
    "Triplets",
    "arcface_loss",
    "contrastive_loss",
    "cosface_loss",
    "hard_negative_miner",
    "nt_xent_loss",
    "proxy_anchor_loss",
    "proxy_nca_loss",
    "semi_hard_miner",
    "triplet_loss",
]

_EL = Signature.EMBEDDINGS_LABELS
_loss = partial(builtin, domain="metric_learning", tier=Tier.LOSS, non_negative=True, differentiable=True)
_EUCLIDEAN = {"translation", "rotation", "permutation", "relabeling"}  # distances only
_ANGULAR = {"scale", "permutation"}  # rows normalised; weights or proxies stay fixed
Mining = Literal["all", "hard", "semi_hard"]


class Triplets(NamedTuple):
    """Mined triplets as fixed-length index arrays, one slot per (anchor, positive) pair.

    Slot ``i * n + j`` holds anchor ``i`` and positive ``j``; ``valid`` is False where ``j`` is
    not a positive of ``i`` or no negative was found, and ``negatives`` then holds 0.

    Attributes:
        anchors: anchor row of each slot, shape ``(n * n,)``, int32.
        positives: positive row of each slot, shape ``(n * n,)``, int32.
        negatives: mined negative row of each slot, shape ``(n * n,)``, int32.
        valid: whether the slot is a real triplet, shape ``(n * n,)``, bool.
    """

    anchors: Array
    positives: Array
    negatives: Array
    valid: Array

    def to_mask(self, n: int) -> Array:
        """The triplets as a boolean ``(n, n, n)`` mask indexed ``[anchor, positive, negative]``.

        Example:
            >>> t = semi_hard_miner(jnp.array([[0.0], [0.5], [0.8]]), jnp.array([0, 0, 1]))
            >>> [tuple(map(int, idx)) for idx in jnp.argwhere(t.to_mask(3))]
            [(0, 1, 2)]
        """
        mask = jnp.zeros((n, n, n), bool)
        return mask.at[self.anchors, self.positives, self.negatives].max(self.valid)


def _batch(embeddings: ArrayLike, labels: ArrayLike) -> tuple[Array, Array]:
    x, y = as_float(embeddings, "embeddings"), as_int(labels, "labels")
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise MetricInputError(
            f"embeddings must have shape (n, d) and labels shape (n,); got {tuple(x.shape)} and "
            f"{tuple(y.shape)}."
        )
    return x, y


def _table(table: ArrayLike, name: str, x: Array) -> Array:
    w = as_float(table, name)
    if w.ndim != 2 or w.shape[1] != x.shape[1]:
        raise MetricInputError(
            f"{name} must have shape (K, {x.shape[1]}): one row per class with the embedding size; "
            f"got {tuple(w.shape)}."
        )
    return w.astype(jnp.result_type(w.dtype, x.dtype))


def _positive(value: float, name: str) -> None:
    if not value > 0:
        raise MetricInputError(f"{name} must be positive; got {value!r}.")


def _normalize(x: Array) -> Array:
    norm = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
    return x / jnp.maximum(norm, jnp.finfo(x.dtype).tiny ** 0.5)


def _distances(x: Array, squared: bool) -> Array:
    """Pairwise Euclidean distances, with a gradient that stays finite on the diagonal."""
    sq = pairwise_sq_dists(x, x)
    if squared:
        return sq
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)


def _pair_masks(y: Array) -> tuple[Array, Array]:
    same = y[:, None] == y[None, :]
    return same & ~jnp.eye(y.shape[0], dtype=bool), ~same


@_loss("contrastive_loss", Direction.LOWER, _EL, invariances=_EUCLIDEAN)
def contrastive_loss(embeddings: ArrayLike, labels: ArrayLike, *, margin: float = 1.0) -> Array:
    """Contrastive loss over every pair of the batch: d^2 / 2 for a pair of one class, else
    max(0, margin - d)^2 / 2, with d the Euclidean distance; the mean over pairs.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids; two rows of one class form a positive pair.
        margin: the distance beyond which a negative pair costs nothing (> 0).

    Returns:
        The mean loss over the ``n (n - 1) / 2`` pairs.

    Raises:
        MetricInputError: wrong shapes or a margin that is not positive.

    Example:
        >>> x = jnp.array([[0.0], [1.0], [1.5]])  # pairs: (1^2 + 0 + 0.5^2) / 2 / 3
        >>> round(float(contrastive_loss(x, jnp.array([0, 0, 1]), margin=1.0)), 4)
        0.2083

    References:
        Hadsell, Chopra and LeCun (2006), Dimensionality reduction by learning an invariant mapping.
    """
    _positive(margin, "margin")
    x, y = _batch(embeddings, labels)
    d = _distances(x, squared=False)
    pos, neg = _pair_masks(y)
    per_pair = jnp.where(pos, d * d, 0.0) + jnp.where(neg, jnp.maximum(0.0, margin - d) ** 2, 0.0)
    n = y.shape[0]
    return 0.5 * jnp.sum(per_pair) / max(n * (n - 1), 1)


def _mine(d: Array, y: Array, semi_hard_margin: float | None) -> Triplets:
    """For every (anchor, positive) pair, the nearest negative of the anchor; with a margin,
    only among the negatives farther than the positive and within the margin (semi-hard)."""
    n = y.shape[0]
    pos, neg = _pair_masks(y)
    d = jax.lax.stop_gradient(d)
    cand = jnp.broadcast_to(neg[:, None, :], (n, n, n))  # [anchor, positive, negative]
    if semi_hard_margin is not None:
        d_ap = d[:, :, None]
        d_an = d[:, None, :]
        cand = cand & (d_an > d_ap) & (d_an < d_ap + semi_hard_margin)
    found = jnp.any(cand, axis=-1)
    negatives = jnp.argmin(jnp.where(cand, d[:, None, :], jnp.inf), axis=-1)
    valid = pos & found
    anchors, positives = jnp.meshgrid(jnp.arange(n), jnp.arange(n), indexing="ij")
    return Triplets(anchors.ravel().astype(jnp.int32), positives.ravel().astype(jnp.int32),
                    jnp.where(valid, negatives, 0).ravel().astype(jnp.int32), valid.ravel())


def hard_negative_miner(embeddings: ArrayLike, labels: ArrayLike, *, squared: bool = False) -> Triplets:
    """Hard-negative mining: for every anchor-positive pair, the anchor's nearest negative.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids.
        squared: rank by squared Euclidean distances (the same order; kept for symmetry with
            :func:`semi_hard_miner`).

    Returns:
        :class:`Triplets` with ``n * n`` slots; a slot is valid when its pair is a positive pair
        and the anchor has a negative in the batch.

    Raises:
        MetricInputError: wrong shapes.

    Example:
        >>> t = hard_negative_miner(jnp.array([[0.0], [0.5], [0.8], [3.0]]), jnp.array([0, 0, 1, 1]))
        >>> int(t.negatives[1]), bool(t.valid[1])  # anchor 0, positive 1: nearest negative is row 2
        (2, True)

    References:
        Schroff, Kalenichenko and Philbin (2015), FaceNet, section 3.1.
    """
    x, y = _batch(embeddings, labels)
    return _mine(_distances(x, squared), y, None)


def semi_hard_miner(embeddings: ArrayLike, labels: ArrayLike, *, margin: float = 1.0,
                    squared: bool = False) -> Triplets:
    """Semi-hard mining: for every anchor-positive pair, the nearest negative n with
    d(a, p) < d(a, n) < d(a, p) + margin (farther than the positive, still inside the margin).

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids.
        margin: the triplet margin (> 0).
        squared: compare squared Euclidean distances, as FaceNet does.

    Returns:
        :class:`Triplets` with ``n * n`` slots; a slot is valid when its pair is a positive pair
        and a semi-hard negative exists.

    Raises:
        MetricInputError: wrong shapes or a margin that is not positive.

    Example:
        >>> t = semi_hard_miner(jnp.array([[0.0], [0.5], [0.8], [0.2]]), jnp.array([0, 0, 1, 1]))
        >>> int(t.negatives[1]), bool(t.valid[1])  # row 3 is nearer than the positive: not semi-hard
        (2, True)

    References:
        Schroff, Kalenichenko and Philbin (2015), FaceNet, section 3.2.
    """
    _positive(margin, "margin")
    x, y = _batch(embeddings, labels)
    return _mine(_distances(x, squared), y, float(margin))


@_loss("triplet_loss", Direction.LOWER, _EL, invariances=_EUCLIDEAN)
def triplet_loss(embeddings: ArrayLike, labels: ArrayLike, *, margin: float = 1.0, mining: Mining = "all",
                 squared: bool = False) -> Array:
    """Triplet loss max(0, d(a, p) - d(a, n) + margin), the mean over the chosen triplets.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids.
        margin: the required gap between negative and positive distances (> 0).
        mining: ``"all"`` every valid triplet of the batch (a != p of one class, n of another),
            ``"hard"`` the nearest negative per anchor-positive pair (:func:`hard_negative_miner`),
            ``"semi_hard"`` FaceNet's semi-hard negatives (:func:`semi_hard_miner`).
        squared: use squared Euclidean distances, as FaceNet does.

    Returns:
        The mean loss over the chosen triplets; 0 when there are none.

    Raises:
        MetricInputError: wrong shapes, an unknown ``mining`` or a margin that is not positive.

    Example:
        >>> x = jnp.array([[0.0], [0.5], [1.0]])
        >>> float(triplet_loss(x, jnp.array([0, 0, 1]), margin=1.0))  # (0.5 + 1.0) / 2 triplets
        0.75

    References:
        Schroff, Kalenichenko and Philbin (2015), FaceNet: a unified embedding for face
        recognition and clustering.
    """
    check_option(mining, "mining", ("all", "hard", "semi_hard"))
    _positive(margin, "margin")
    x, y = _batch(embeddings, labels)
    d = _distances(x, squared)
    if mining == "all":
        pos, neg = _pair_masks(y)
        valid = pos[:, :, None] & neg[:, None, :]
        per = jnp.maximum(0.0, d[:, :, None] - d[:, None, :] + margin)
        return safe_div(jnp.sum(jnp.where(valid, per, 0.0)), jnp.sum(valid).astype(d.dtype))
    t = _mine(d, y, float(margin) if mining == "semi_hard" else None)
    per = jnp.maximum(0.0, d[t.anchors, t.positives] - d[t.anchors, t.negatives] + margin)
    return safe_div(jnp.sum(jnp.where(t.valid, per, 0.0)), jnp.sum(t.valid).astype(d.dtype))


@_loss("nt_xent_loss", Direction.LOWER, Signature.VIEWS, symmetric=True,
       invariances={"scale", "rotation", "permutation"})
def nt_xent_loss(z1: ArrayLike, z2: ArrayLike, *, temperature: float = 0.5) -> Array:
    """NT-Xent (normalised temperature-scaled cross-entropy) of two views of one batch.

    Each of the 2n rows is an anchor whose positive is the same row of the other view and whose
    negatives are the other 2n - 2 rows; similarities are cosines divided by ``temperature``.

    Args:
        z1: ``(n, d)`` embeddings of the first view.
        z2: ``(n, d)`` embeddings of the second view.
        temperature: the softmax temperature (> 0).

    Returns:
        The mean cross-entropy over the 2n anchors.

    Raises:
        MetricInputError: shapes that differ or are not 2-D, or a temperature that is not positive.

    Example:
        >>> z = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(nt_xent_loss(z, z, temperature=1.0)), 4)
        0.5514

    References:
        Chen, Kornblith, Norouzi and Hinton (2020), A simple framework for contrastive learning
        of visual representations.
    """
    _positive(temperature, "temperature")
    a, b = as_float(z1, "z1"), as_float(z2, "z2")
    if a.ndim != 2 or a.shape != b.shape:
        raise MetricInputError(f"z1 and z2 must both have shape (n, d); got {tuple(a.shape)} and {tuple(b.shape)}.")
    n = a.shape[0]
    z = _normalize(jnp.concatenate([a, b]).astype(jnp.result_type(a.dtype, b.dtype)))
    sim = (z @ z.T) / temperature
    logits = jnp.where(jnp.eye(2 * n, dtype=bool), -jnp.inf, sim)
    partner = jnp.concatenate([jnp.arange(n, 2 * n), jnp.arange(n)])
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - sim[jnp.arange(2 * n), partner])


def _margin_softmax(x: Array, y: Array, weights: Array, scale: float, target_logit: Array) -> Array:
    cos = _normalize(x) @ _normalize(weights).T
    logits = scale * jnp.where(jax.nn.one_hot(y, weights.shape[0], dtype=bool), target_logit[:, None], cos)
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - scale * target_logit)


def _target_cosine(x: Array, y: Array, weights: Array) -> Array:
    return jnp.sum(_normalize(x) * _normalize(weights)[y], axis=1)


@_loss("arcface_loss", Direction.LOWER, _EL, invariances=_ANGULAR)
def arcface_loss(embeddings: ArrayLike, labels: ArrayLike, *, class_weights: ArrayLike, scale: float = 64.0,
                 margin: float = 0.5) -> Array:
    """ArcFace: softmax cross-entropy over scaled cosines, the true class's angle widened by
    ``margin``: logit ``scale * cos(theta_y + margin)`` for the true class, ``scale * cos(theta_j)``
    for the others.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids in ``[0, K)``.
        class_weights: ``(K, d)`` class-weight matrix (one row per class; rows are normalised).
        scale: the logit scale s (> 0).
        margin: the additive angular margin m in radians (>= 0).

    Returns:
        The mean cross-entropy over the batch.

    Raises:
        MetricInputError: wrong shapes or a scale that is not positive.

    Example:
        >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(arcface_loss(jnp.array([[1.0, 0.0]]), jnp.array([0]), class_weights=w,
        ...                          scale=1.0, margin=0.0)), 4)  # softmax of cosines (1, 0)
        0.3133

    References:
        Deng, Guo, Xue and Zafeiriou (2019), ArcFace: additive angular margin loss for deep face
        recognition.
    """
    _positive(scale, "scale")
    x, y = _batch(embeddings, labels)
    w = _table(class_weights, "class_weights", x)
    c = _target_cosine(x, y, w)
    sin = jnp.sqrt(jnp.maximum(1.0 - c * c, jnp.finfo(c.dtype).tiny))  # cos(t + m) = cos t cos m - sin t sin m
    return _margin_softmax(x, y, w, scale, c * jnp.cos(margin) - sin * jnp.sin(margin))


@_loss("cosface_loss", Direction.LOWER, _EL, invariances=_ANGULAR)
def cosface_loss(embeddings: ArrayLike, labels: ArrayLike, *, class_weights: ArrayLike, scale: float = 64.0,
                 margin: float = 0.35) -> Array:
    """CosFace (large margin cosine loss): softmax cross-entropy over ``scale * cos(theta_j)``,
    with ``margin`` subtracted from the true class's cosine.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids in ``[0, K)``.
        class_weights: ``(K, d)`` class-weight matrix (one row per class; rows are normalised).
        scale: the logit scale s (> 0).
        margin: the additive cosine margin m (>= 0).

    Returns:
        The mean cross-entropy over the batch.

    Raises:
        MetricInputError: wrong shapes or a scale that is not positive.

    Example:
        >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(cosface_loss(jnp.array([[1.0, 0.0]]), jnp.array([0]), class_weights=w,
        ...                          scale=1.0, margin=1.0)), 4)  # logits (0, 0)
        0.6931

    References:
        Wang et al. (2018), CosFace: large margin cosine loss for deep face recognition.
    """
    _positive(scale, "scale")
    x, y = _batch(embeddings, labels)
    w = _table(class_weights, "class_weights", x)
    return _margin_softmax(x, y, w, scale, _target_cosine(x, y, w) - margin)


@_loss("proxy_nca_loss", Direction.LOWER, _EL, non_negative=False, invariances=_ANGULAR)
def proxy_nca_loss(embeddings: ArrayLike, labels: ArrayLike, *, proxies: ArrayLike, scale: float = 1.0) -> Array:
    """ProxyNCA: -log(exp(-s d(x, p_y)) / sum_{z != y} exp(-s d(x, p_z))) with d the squared
    distance between normalised embedding and proxy; the mean over the batch.

    The positive proxy is left out of the denominator, as in the paper, so the loss can be
    negative.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids in ``[0, K)``.
        proxies: ``(K, d)`` one proxy per class (rows are normalised); K >= 2.
        scale: s, multiplies the distances (1 in the paper; larger sharpens).

    Returns:
        The mean loss over the batch.

    Raises:
        MetricInputError: wrong shapes, fewer than two proxies, or a scale that is not positive.

    Example:
        >>> p = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> float(proxy_nca_loss(jnp.array([[1.0, 0.0]]), jnp.array([0]), proxies=p))  # d = 0 and 2
        -2.0

    References:
        Movshovitz-Attias et al. (2017), No fuss distance metric learning using proxies.
    """
    _positive(scale, "scale")
    x, y = _batch(embeddings, labels)
    p = _table(proxies, "proxies", x)
    if p.shape[0] < 2:
        raise MetricInputError(f"proxies needs at least 2 rows (classes); got {tuple(p.shape)}.")
    d = scale * pairwise_sq_dists(_normalize(x), _normalize(p))
    is_y = jax.nn.one_hot(y, p.shape[0], dtype=bool)
    d_pos = jnp.sum(jnp.where(is_y, d, 0.0), axis=1)
    return jnp.mean(d_pos + jax.nn.logsumexp(jnp.where(is_y, -jnp.inf, -d), axis=1))


def _log1p_sum_exp(z: Array, mask: Array) -> Array:
    """log(1 + sum of exp(z) over the masked entries of each row), computed stably."""
    zeros = jnp.zeros(z.shape[:-1] + (1,), z.dtype)
    return jax.nn.logsumexp(jnp.concatenate([zeros, jnp.where(mask, z, -jnp.inf)], axis=-1), axis=-1)


@_loss("proxy_anchor_loss", Direction.LOWER, _EL, invariances=_ANGULAR)
def proxy_anchor_loss(embeddings: ArrayLike, labels: ArrayLike, *, proxies: ArrayLike, alpha: float = 32.0,
                      delta: float = 0.1) -> Array:
    """Proxy Anchor loss: each proxy is an anchor that pulls its class's embeddings and pushes
    the others, with cosine similarities s:

    (1/|P+|) sum_{p in P+} log(1 + sum_{x of p} exp(-alpha (s - delta)))
    + (1/|P|) sum_{p in P} log(1 + sum_{x not of p} exp(alpha (s + delta))),
    where P+ is the proxies with at least one embedding of their class in the batch.

    Args:
        embeddings: ``(n, d)`` embeddings.
        labels: ``(n,)`` integer class ids in ``[0, K)``.
        proxies: ``(K, d)`` one proxy per class (rows are normalised).
        alpha: the scale (> 0).
        delta: the margin.

    Returns:
        The loss of the batch.

    Raises:
        MetricInputError: wrong shapes or an alpha that is not positive.

    Example:
        >>> p = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(proxy_anchor_loss(jnp.array([[1.0, 0.0]]), jnp.array([0]), proxies=p,
        ...                               alpha=1.0, delta=0.0)), 4)  # log(1 + e^-1) + log(2) / 2
        0.6598

    References:
        Kim, Kim, Cho and Kwak (2020), Proxy anchor loss for deep metric learning.
    """
    _positive(alpha, "alpha")
    x, y = _batch(embeddings, labels)
    p = _table(proxies, "proxies", x)
    sim = (_normalize(p) @ _normalize(x).T)  # (K, n)
    of_class = jax.nn.one_hot(y, p.shape[0], dtype=bool).T
    with_positives = jnp.any(of_class, axis=1)
    pos_term = jnp.where(with_positives, _log1p_sum_exp(-alpha * (sim - delta), of_class), 0.0)
    neg_term = _log1p_sum_exp(alpha * (sim + delta), ~of_class)
    return jnp.sum(pos_term) / jnp.sum(with_positives) + jnp.mean(neg_term)
