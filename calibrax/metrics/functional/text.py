"""Text metrics on integer token ids (words, sub-words or character codes).

Sequences are 1-D, or 2-D ``(batch, length)`` padded at the end with a negative id
(``pad_id``, default -1); tokens are ids >= 0. ``fn(hypothesis, reference)``; batch scores
are corpus-level (counts summed over the batch) for BLEU, ROUGE and error rates.
``encode(texts)`` turns Python strings into such arrays outside ``jax.jit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, as_int, safe_div
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "bleu", "character_error_rate", "distinct_n", "edit_distance", "encode", "perplexity", "rouge_l",
    "rouge_n", "word_error_rate",
]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="text")


def encode(texts: str | Sequence[str], *, words: bool = False) -> Array:
    """Character codes (or word ids with ``words=True``) of texts, padded with -1.

    Word ids are assigned in order of first appearance across ``texts``.

    Example:
        >>> encode(["ab", "a"]).tolist()
        [[97, 98], [97, -1]]
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    vocab: dict[str, int] = {}
    seqs = [[vocab.setdefault(w, len(vocab)) for w in t.split()] if words else [ord(c) for c in t] for t in items]
    width = max((len(s) for s in seqs), default=0)
    arr = jnp.asarray([s + [-1] * (width - len(s)) for s in seqs], jnp.int32).reshape(len(seqs), width)
    return arr[0] if isinstance(texts, str) else arr


def _batch(x: ArrayLike, name: str) -> Array:
    a = as_int(x, name)
    if a.ndim not in (1, 2):
        raise MetricInputError(f"{name} must be 1-D token ids or 2-D (batch, length); got shape {tuple(a.shape)}.")
    return a[None] if a.ndim == 1 else a


def _pair(hypothesis: ArrayLike, reference: ArrayLike) -> tuple[Array, Array]:
    h, r = _batch(hypothesis, "hypothesis"), _batch(reference, "reference")
    if h.shape[0] != r.shape[0]:
        raise MetricInputError(f"hypothesis and reference must hold as many sequences; got {h.shape[0]} and {r.shape[0]}.")
    return h, r


def _ngrams(seq: Array, n: int) -> tuple[Array, Array]:
    """The (L - n + 1, n) n-grams of one sequence and whether each lies inside the tokens."""
    length = seq.shape[0] - n + 1
    if length <= 0:
        return jnp.zeros((0, n), seq.dtype), jnp.zeros((0,), bool)
    grams = jnp.stack([seq[i : i + length] for i in range(n)], axis=1)
    return grams, jnp.all(grams >= 0, axis=1)


def _overlap(h: Array, r: Array, n: int) -> tuple[Array, Array, Array]:
    """Clipped n-gram matches, hypothesis n-grams and reference n-grams of one pair."""
    hg, hv = _ngrams(h, n)
    rg, rv = _ngrams(r, n)
    if hg.shape[0] == 0 or rg.shape[0] == 0:
        zero = jnp.zeros((), jnp.result_type(float))
        return zero, jnp.sum(hv).astype(zero.dtype), jnp.sum(rv).astype(zero.dtype)
    same_h = jnp.all(hg[:, None] == hg[None], axis=2) & hv[None] & hv[:, None]
    cross = jnp.all(hg[:, None] == rg[None], axis=2) & hv[:, None] & rv[None]
    count_h = same_h.sum(axis=1)
    count_r = cross.sum(axis=1)
    # each distinct n-gram occurs count_h times; together they contribute min(count_h, count_r)
    clipped = jnp.sum(jnp.where(hv, jnp.minimum(count_h, count_r) / jnp.maximum(count_h, 1), 0.0))
    return clipped, jnp.sum(hv).astype(clipped.dtype), jnp.sum(rv).astype(clipped.dtype)


@_metric("bleu", Direction.HIGHER, _PT, non_negative=True, invariances={"permutation"})
def bleu(hypothesis: ArrayLike, reference: ArrayLike, *, max_n: int = 4) -> Array:
    """Corpus BLEU with one reference: geometric mean of clipped n-gram precisions (uniform
    weights, no smoothing) times the brevity penalty.

    Example:
        >>> float(bleu(jnp.array([1, 2, 3, 4, 5]), jnp.array([1, 2, 3, 4, 5])))
        1.0

    References:
        Papineni et al. (2002), BLEU: a method for automatic evaluation of machine translation.
    """
    h, r = _pair(hypothesis, reference)
    logs = []
    for n in range(1, max_n + 1):
        match, total, _ = jax.vmap(lambda a, b, n=n: _overlap(a, b, n))(h, r)
        p = safe_div(match.sum(), total.sum())
        logs.append(jnp.log(jnp.where(p > 0, p, 1.0)) + jnp.where(p > 0, 0.0, -jnp.inf))
    hyp_len = jnp.sum(h >= 0).astype(jnp.result_type(float))
    ref_len = jnp.sum(r >= 0).astype(hyp_len.dtype)
    bp = jnp.where(hyp_len > ref_len, 1.0, jnp.exp(1.0 - ref_len / jnp.maximum(hyp_len, 1.0)))
    return bp * jnp.exp(jnp.mean(jnp.stack(logs)))


def _f1(match: Array, n_h: Array, n_r: Array) -> Array:
    prec, rec = safe_div(match, n_h), safe_div(match, n_r)
    return safe_div(2 * prec * rec, prec + rec)


@_metric("rouge_n", Direction.HIGHER, _PT, non_negative=True, symmetric=True, invariances={"permutation"})
def rouge_n(hypothesis: ArrayLike, reference: ArrayLike, *, n: int = 2) -> Array:
    """ROUGE-N F1: n-gram overlap (clipped counts) between hypothesis and reference.

    Example:
        >>> round(float(rouge_n(jnp.array([1, 2, 3]), jnp.array([1, 2, 4]), n=1)), 4)
        0.6667

    References:
        Lin (2004), ROUGE: a package for automatic evaluation of summaries.
    """
    h, r = _pair(hypothesis, reference)
    match, n_h, n_r = jax.vmap(lambda a, b: _overlap(a, b, n))(h, r)
    return _f1(match.sum(), n_h.sum(), n_r.sum())


def _lcs(a: Array, b: Array) -> Array:
    """Length of the longest common subsequence of the tokens of a and b."""
    valid_b = b >= 0

    def row(prev: Array, tok: Array) -> tuple[Array, None]:
        def cell(left: Array, j: Array) -> tuple[Array, Array]:
            hit = (tok >= 0) & valid_b[j] & (tok == b[j])
            val = jnp.where(hit, prev[j] + 1, jnp.maximum(prev[j + 1], left))
            return val, val

        _, cells = jax.lax.scan(cell, jnp.zeros((), prev.dtype), jnp.arange(b.shape[0]))
        return jnp.concatenate([jnp.zeros(1, prev.dtype), cells]), None

    last, _ = jax.lax.scan(row, jnp.zeros(b.shape[0] + 1, jnp.int32), a)
    return last[-1]


@_metric("rouge_l", Direction.HIGHER, _PT, non_negative=True, symmetric=True, invariances={"permutation"})
def rouge_l(hypothesis: ArrayLike, reference: ArrayLike) -> Array:
    """ROUGE-L F1 from the longest common subsequence.

    Example:
        >>> round(float(rouge_l(jnp.array([1, 2, 3, 4]), jnp.array([1, 3, 4, 5]))), 4)
        0.75

    References:
        Lin (2004), ROUGE: a package for automatic evaluation of summaries.
    """
    h, r = _pair(hypothesis, reference)
    lcs = jax.vmap(_lcs)(h, r).astype(jnp.result_type(float))
    return _f1(lcs.sum(), jnp.sum(h >= 0).astype(lcs.dtype), jnp.sum(r >= 0).astype(lcs.dtype))


def _levenshtein(a: Array, b: Array) -> Array:
    """Edit distance (insertions, deletions, substitutions) between the tokens of a and b."""
    len_a, len_b = jnp.sum(a >= 0), jnp.sum(b >= 0)
    first = jnp.arange(b.shape[0] + 1)

    def row(prev: Array, i: Array) -> tuple[Array, Array]:
        def cell(left: Array, j: Array) -> tuple[Array, Array]:
            val = jnp.minimum(jnp.minimum(prev[j + 1] + 1, left + 1), prev[j] + (a[i] != b[j]))
            return val, val

        _, cells = jax.lax.scan(cell, i + 1, jnp.arange(b.shape[0]))
        cur = jnp.concatenate([(i + 1)[None], cells])
        return cur, cur

    _, rows = jax.lax.scan(row, first, jnp.arange(a.shape[0]))
    table = jnp.concatenate([first[None], rows])
    return table[len_a, len_b]


@_metric("edit_distance", Direction.LOWER, _PT, true_metric=True, symmetric=True, non_negative=True,
         invariances={"permutation"})
def edit_distance(hypothesis: ArrayLike, reference: ArrayLike) -> Array:
    """Levenshtein distance, summed over the batch.

    Example:
        >>> int(edit_distance(encode("kitten"), encode("sitting")))
        3
    """
    h, r = _pair(hypothesis, reference)
    return jnp.sum(jax.vmap(_levenshtein)(h, r)).astype(jnp.result_type(float))


@_metric("word_error_rate", Direction.LOWER, _PT, non_negative=True, invariances={"permutation"})
def word_error_rate(hypothesis: ArrayLike, reference: ArrayLike) -> Array:
    """Word error rate: word-level edits over the number of reference words.

    Example:
        >>> words = encode(["the cat sat", "the cat sat down"], words=True)
        >>> round(float(word_error_rate(words[0], words[1])), 4)
        0.25
    """
    h, r = _pair(hypothesis, reference)
    return edit_distance(h, r) / jnp.sum(r >= 0)


@_metric("character_error_rate", Direction.LOWER, _PT, non_negative=True, invariances={"permutation"})
def character_error_rate(hypothesis: ArrayLike, reference: ArrayLike) -> Array:
    """Character error rate: character edits over the number of reference characters.

    Example:
        >>> round(float(character_error_rate(encode("kitten"), encode("sitting"))), 4)
        0.4286
    """
    h, r = _pair(hypothesis, reference)
    return edit_distance(h, r) / jnp.sum(r >= 0)


@_metric("distinct_n", Direction.HIGHER, Signature.SINGLE, non_negative=True, invariances={"permutation"})
def distinct_n(tokens: ArrayLike, *, n: int = 2) -> Array:
    """Distinct-n: distinct n-grams over all n-grams of the (batch of) sequences.

    Example:
        >>> round(float(distinct_n(jnp.array([1, 2, 1, 2]), n=2)), 4)
        0.6667

    References:
        Li et al. (2016), A diversity-promoting objective function for neural conversation models.
    """
    seqs = _batch(tokens, "tokens")
    grams, valid = jax.vmap(lambda s: _ngrams(s, n))(seqs)
    grams, valid = grams.reshape(-1, n), valid.ravel()
    same = jnp.all(grams[:, None] == grams[None], axis=2) & valid[None] & valid[:, None]
    distinct = jnp.sum(jnp.where(valid, 1.0 / jnp.maximum(same.sum(axis=1), 1), 0.0))
    return safe_div(distinct, jnp.sum(valid).astype(distinct.dtype))


@_metric("perplexity", Direction.LOWER, _PT, non_negative=True, differentiable=True, invariances={"permutation"})
def perplexity(log_probs: ArrayLike, targets: ArrayLike, *, mask: ArrayLike | None = None) -> Array:
    """Perplexity exp(mean negative log-likelihood) of target tokens under log-probabilities
    ``(..., vocab)``; ``mask`` (False drops a position) defaults to targets >= 0.

    Example:
        >>> float(perplexity(jnp.log(jnp.array([[0.5, 0.5], [0.5, 0.5]])), jnp.array([0, 1])))
        2.0

    References:
        Jelinek et al. (1977), Perplexity: a measure of the difficulty of speech recognition tasks.
    """
    lp, t = as_float(log_probs, "log_probs"), as_int(targets, "targets")
    if lp.shape[:-1] != t.shape:
        raise MetricInputError(f"log_probs must be targets' shape plus a vocab axis; got {tuple(lp.shape)} and "
                               f"{tuple(t.shape)}.")
    keep = (t >= 0) if mask is None else jnp.asarray(mask, bool) & (t >= 0)
    picked = jnp.take_along_axis(lp, jnp.maximum(t, 0)[..., None], axis=-1)[..., 0]
    nll = -jnp.sum(jnp.where(keep, picked, 0.0)) / jnp.sum(keep)
    return jnp.exp(nll)
