"""Reference rows of the classification metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm

from metric_cases._base import PT, Inputs, N, case, labels, probs


def _cls(k: int, average: str | None = None, weighted: bool = False,
         nc: bool = False) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        kw: dict[str, Any] = {}
        if average is not None:
            kw["average"] = average
        if nc or average not in (None, "binary"):
            kw["num_classes"] = k
        if weighted:
            kw["weights"] = rng.uniform(0.1, 2.0, N)
        return labels(rng, k), kw
    return make


def _skc(fn: Callable[..., Any]) -> Callable[..., Any]:
    def ref(p: Any, t: Any, weights: Any = None, num_classes: int | None = None, **kw: Any) -> Any:
        if num_classes is not None:
            kw["labels"] = list(range(num_classes))
        return fn(t, p, sample_weight=weights, zero_division=0, **kw)
    return ref


def _counts(p: np.ndarray, t: np.ndarray, k: int, w: np.ndarray | None) -> tuple[np.ndarray, ...]:
    mcm = skm.multilabel_confusion_matrix(t, p, labels=list(range(k)), sample_weight=w)
    return mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 0, 0]  # tp, fp, fn, tn


def _ratio_ref(pick: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[..., Any]:
    def ref(p: Any, t: Any, average: str = "binary", num_classes: int | None = None, weights: Any = None) -> float:
        k = num_classes or 2
        tp, fp, fn, tn = (c.astype(np.float64) for c in _counts(p, t, k, weights))
        num, den = pick(tp, fp, fn, tn)
        ratio = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
        if average == "binary":
            return float(ratio[1])
        if average == "micro":
            return float(num.sum() / den.sum()) if den.sum() else 0.0
        if average == "macro":
            return float(ratio.mean())
        return float(np.sum(ratio * (tp + fn)) / np.sum(tp + fn))
    return ref


case("accuracy", PT, _cls(4, weighted=True), lambda p, t, weights: skm.accuracy_score(t, p, sample_weight=weights))
case("zero_one_loss", PT, _cls(4), lambda p, t: skm.zero_one_loss(t, p))
case("hamming_loss", PT, _cls(3), lambda p, t: skm.hamming_loss(t, p))
case("balanced_accuracy", PT, _cls(5, weighted=True, nc=True),
     lambda p, t, weights, num_classes: skm.balanced_accuracy_score(t, p, sample_weight=weights))
case("precision", PT, _cls(4, "macro", weighted=True), _skc(skm.precision_score))
case("recall", PT, _cls(4, "weighted"), _skc(skm.recall_score))
case("f1", PT, _cls(2, "binary", weighted=True), _skc(skm.f1_score))
case("fbeta", PT, _cls(4, "micro"), lambda p, t, **kw: _skc(skm.fbeta_score)(p, t, beta=0.5, **kw), extra={"beta": 0.5})
case("jaccard_score", PT, _cls(3, "macro"), _skc(skm.jaccard_score))
case("specificity", PT, _cls(4, "macro"), _ratio_ref(lambda tp, fp, fn, tn: (tn, tn + fp)))
case("negative_predictive_value", PT, _cls(2, "binary"), _ratio_ref(lambda tp, fp, fn, tn: (tn, tn + fn)))
case("false_positive_rate", PT, _cls(3, "weighted"), _ratio_ref(lambda tp, fp, fn, tn: (fp, fp + tn)))
case("false_negative_rate", PT, _cls(3, "micro"), _ratio_ref(lambda tp, fp, fn, tn: (fn, fn + tp)))
case("matthews_corrcoef", PT, _cls(4, weighted=True, nc=True),
     lambda p, t, weights, num_classes: skm.matthews_corrcoef(t, p, sample_weight=weights))


def _kappa(rng: np.random.Generator) -> Inputs:
    return labels(rng, 4), {"weighting": "quadratic", "num_classes": 4}


case("cohen_kappa", PT, _kappa, lambda p, t, weighting, num_classes: skm.cohen_kappa_score(t, p, weights=weighting))


def _scores(k: int) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        p, t = probs(rng, k)
        return ((p[:, 1] if k == 2 else p), t), {}
    return make


def _skscore(fn: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    def ref(s: Any, t: Any, **kw: Any) -> Any:
        if s.ndim == 2:
            kw.setdefault("labels", list(range(s.shape[1])))
        return fn(t, s, **fixed, **kw)
    return ref


case("roc_auc", PT, _scores(4), _skscore(skm.roc_auc_score, multi_class="ovr"))
case("average_precision", PT, _scores(2), lambda s, t: skm.average_precision_score(t, s))
case("log_loss", PT, _scores(5), _skscore(skm.log_loss))
case("top_k_accuracy", PT, lambda rng: (probs(rng, 6), {"k": 3}), _skscore(skm.top_k_accuracy_score))


def _hinge(rng: np.random.Generator) -> Inputs:
    s, t = probs(rng, 4)
    return (np.log(s) + 1.0, t), {}


case("hinge_loss", PT, _hinge, lambda d, t: skm.hinge_loss(t, d, labels=list(range(d.shape[1]))))
