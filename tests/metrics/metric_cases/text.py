"""Reference rows of the text metrics."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from metric_cases._base import PT, Inputs, X, case


def _tokens(rng: np.random.Generator, batch: int = 3, length: int = 14, vocab: int = 5) -> np.ndarray:
    x = rng.integers(0, vocab, (batch, length))
    for row in x[1:]:
        row[rng.integers(length // 2, length) :] = -1
    return x.astype(np.int32)


def _text_pair(rng: np.random.Generator, **kw: Any) -> Inputs:
    return (_tokens(rng), _tokens(rng)), kw


def _seq(row: np.ndarray) -> list[int]:
    return [int(v) for v in row if v >= 0]


def _grams(s: list[int], n: int) -> Counter[tuple[int, ...]]:
    return Counter(tuple(s[i : i + n]) for i in range(len(s) - n + 1))


def _bleu_ref(h: np.ndarray, r: np.ndarray, max_n: int = 4) -> float:
    logs = []
    for n in range(1, max_n + 1):
        match = total = 0
        for a, b in zip(h, r, strict=True):
            ga, gb = _grams(_seq(a), n), _grams(_seq(b), n)
            match += sum(min(c, gb[g]) for g, c in ga.items())
            total += sum(ga.values())
        if match == 0:
            return 0.0
        logs.append(np.log(match / total))
    hl, rl = sum(len(_seq(a)) for a in h), sum(len(_seq(b)) for b in r)
    bp = 1.0 if hl > rl else np.exp(1 - rl / hl)
    return float(bp * np.exp(np.mean(logs)))


def _f1_ref(m: float, nh: float, nr: float) -> float:
    p, r = (m / nh if nh else 0.0), (m / nr if nr else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def _rouge_n_ref(h: np.ndarray, r: np.ndarray, n: int) -> float:
    m = nh = nr = 0
    for a, b in zip(h, r, strict=True):
        ga, gb = _grams(_seq(a), n), _grams(_seq(b), n)
        m += sum(min(c, gb[g]) for g, c in ga.items())
        nh, nr = nh + sum(ga.values()), nr + sum(gb.values())
    return _f1_ref(m, nh, nr)


def _lcs_ref(a: list[int], b: list[int]) -> int:
    t = np.zeros((len(a) + 1, len(b) + 1), int)
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            t[i, j] = t[i - 1, j - 1] + 1 if x == y else max(t[i - 1, j], t[i, j - 1])
    return int(t[-1, -1])


def _lev_ref(a: list[int], b: list[int]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _edits(h: np.ndarray, r: np.ndarray) -> float:
    return float(sum(_lev_ref(_seq(a), _seq(b)) for a, b in zip(h, r, strict=True)))


def _n_ref(r: np.ndarray) -> int:
    return sum(len(_seq(b)) for b in r)


def _distinct_ref(x: np.ndarray, n: int) -> float:
    grams = [g for row in x for g in _grams(_seq(row), n).elements()]
    return len(set(grams)) / len(grams)


def _ppl(rng: np.random.Generator) -> Inputs:
    logits = rng.normal(size=(4, 9, 7))
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    t = rng.integers(0, 7, (4, 9))
    t[1, 5:] = -1
    return (lp, t.astype(np.int32)), {}


def _ppl_ref(lp: np.ndarray, t: np.ndarray) -> float:
    keep = t >= 0
    picked = np.take_along_axis(lp, np.maximum(t, 0)[..., None], -1)[..., 0]
    return float(np.exp(-picked[keep].mean()))


case("bleu", PT, lambda rng: _text_pair(rng, max_n=2), _bleu_ref)
case("rouge_n", PT, lambda rng: _text_pair(rng, n=2), _rouge_n_ref)
case("rouge_l", PT, _text_pair,
     lambda h, r: _f1_ref(sum(_lcs_ref(_seq(a), _seq(b)) for a, b in zip(h, r, strict=True)), _n_ref(h), _n_ref(r)))
case("edit_distance", PT, _text_pair, _edits)
case("word_error_rate", PT, _text_pair, lambda h, r: _edits(h, r) / _n_ref(r))
case("character_error_rate", PT, _text_pair, lambda h, r: _edits(h, r) / _n_ref(r))
case("distinct_n", X, lambda rng: ((_tokens(rng, vocab=3),), {"n": 2}), _distinct_ref)
case("perplexity", PT, _ppl, _ppl_ref)
