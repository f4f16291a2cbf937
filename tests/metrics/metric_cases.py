"""One row per metric: how to draw seeded inputs and the reference that must agree.

References come from scikit-learn, SciPy, or an independent NumPy implementation written
here from the published definition. ``make(rng)`` returns ``(inputs, kwargs)`` as NumPy
values; ``reference(*inputs, **kwargs)`` returns the expected value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn.metrics as skm

Inputs = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    make: Callable[[np.random.Generator], Inputs]
    reference: Callable[..., Any] | None
    rtol: float = 1e-5
    atol: float = 1e-5
    x64: bool = True  # also compare at 1e-10 with float64 inputs under jax.enable_x64
    extra: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {}


def case(name: str, make: Callable[[np.random.Generator], Inputs], reference: Callable[..., Any] | None,
         **opts: Any) -> None:
    CASES[name] = Case(make, reference, **opts)


# ----------------------------------------------------------------------------- helpers
N = 64


def reg_pair(rng: np.random.Generator, n: int = N, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    if positive:
        return rng.uniform(0.2, 3.0, n), rng.uniform(0.2, 3.0, n)
    t = rng.normal(size=n)
    return (t + 0.5 * rng.normal(size=n)), t


def labels(rng: np.random.Generator, k: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, k, n))
    return p.astype(np.int32), t.astype(np.int32)


def probs(rng: np.random.Generator, k: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    t = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[t]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p, t.astype(np.int32)


def simplex(rng: np.random.Generator, k: int = 8, rows: tuple[int, ...] = ()) -> np.ndarray:
    x = rng.uniform(0.05, 1.0, (*rows, k))
    return (x / x.sum(axis=-1, keepdims=True))


def f32(*xs: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, np.float32) for x in xs)


# ----------------------------------------------------------------------------- regression
def _r(fn: Callable[..., Any], positive: bool = False, **kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        return reg_pair(rng, positive=positive), dict(kw)
    return make


def _w(rng: np.random.Generator) -> Inputs:
    p, t = reg_pair(rng)
    return (p, t), {"weights": rng.uniform(0.1, 2.0, N)}


def _multi(rng: np.random.Generator) -> Inputs:
    t = rng.normal(size=(N, 3))
    return ((t + rng.normal(size=(N, 3))), t), {}


def _sk(fn: Callable[..., Any]) -> Callable[..., Any]:
    """scikit-learn takes (y_true, y_pred, sample_weight=...)."""
    def ref(p: Any, t: Any, weights: Any = None, **kw: Any) -> Any:
        return fn(t, p, sample_weight=weights, **kw)
    return ref


def _smape(p: np.ndarray, t: np.ndarray) -> float:
    den = np.abs(p) + np.abs(t)
    return float(np.mean(np.where(den == 0, 0.0, 2 * np.abs(p - t) / np.where(den == 0, 1, den))))


def _huber(p: np.ndarray, t: np.ndarray, delta: float = 1.0) -> float:
    r = np.abs(p.astype(np.float64) - t)
    return float(np.mean(np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))))


case("mse", _w, _sk(skm.mean_squared_error))
case("mae", _w, _sk(skm.mean_absolute_error))
case("rmse", _w, _sk(skm.root_mean_squared_error))
case("r2", _w, _sk(skm.r2_score))
case("mape", _r(None), _sk(skm.mean_absolute_percentage_error), rtol=1e-4)
case("smape", _r(None), _smape)
case("msle", _r(None, positive=True), _sk(skm.mean_squared_log_error))
case("explained_variance", _multi, _sk(skm.explained_variance_score))
case("max_error", _r(None), lambda p, t: skm.max_error(t, p))
case("median_absolute_error", _multi, _sk(skm.median_absolute_error))
case("huber_loss", _r(None, delta=0.7), _huber)
case("quantile_loss", _r(None, alpha=0.8), lambda p, t, alpha: skm.mean_pinball_loss(t, p, alpha=alpha))
case("log_cosh", _r(None), lambda p, t: float(np.mean(np.log(np.cosh(p.astype(np.float64) - t)))))
case("relative_l2_error", _multi, lambda p, t: np.linalg.norm(p - t) / np.linalg.norm(t))
case("mean_poisson_deviance", _r(None, positive=True), _sk(skm.mean_poisson_deviance))
case("mean_gamma_deviance", _r(None, positive=True), _sk(skm.mean_gamma_deviance))
case("mean_tweedie_deviance", _r(None, positive=True, power=1.5),
     lambda p, t, power: skm.mean_tweedie_deviance(t, p, power=power))
case("d2_absolute_error_score", _r(None), _sk(skm.d2_absolute_error_score))
case("mean_bias_error", _w, lambda p, t, weights: np.average(p - t, weights=weights))


# ----------------------------------------------------------------------------- classification
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


case("accuracy", _cls(4, weighted=True), lambda p, t, weights: skm.accuracy_score(t, p, sample_weight=weights))
case("zero_one_loss", _cls(4), lambda p, t: skm.zero_one_loss(t, p))
case("hamming_loss", _cls(3), lambda p, t: skm.hamming_loss(t, p))
case("balanced_accuracy", _cls(5, weighted=True, nc=True),
     lambda p, t, weights, num_classes: skm.balanced_accuracy_score(t, p, sample_weight=weights))
case("precision", _cls(4, "macro", weighted=True), _skc(skm.precision_score))
case("recall", _cls(4, "weighted"), _skc(skm.recall_score))
case("f1", _cls(2, "binary", weighted=True), _skc(skm.f1_score))
case("fbeta", _cls(4, "micro"), lambda p, t, **kw: _skc(skm.fbeta_score)(p, t, beta=0.5, **kw), extra={"beta": 0.5})
case("jaccard_score", _cls(3, "macro"), _skc(skm.jaccard_score))
case("specificity", _cls(4, "macro"), _ratio_ref(lambda tp, fp, fn, tn: (tn, tn + fp)))
case("negative_predictive_value", _cls(2, "binary"), _ratio_ref(lambda tp, fp, fn, tn: (tn, tn + fn)))
case("false_positive_rate", _cls(3, "weighted"), _ratio_ref(lambda tp, fp, fn, tn: (fp, fp + tn)))
case("false_negative_rate", _cls(3, "micro"), _ratio_ref(lambda tp, fp, fn, tn: (fn, fn + tp)))
case("matthews_corrcoef", _cls(4, weighted=True, nc=True),
     lambda p, t, weights, num_classes: skm.matthews_corrcoef(t, p, sample_weight=weights))


def _kappa(rng: np.random.Generator) -> Inputs:
    return labels(rng, 4), {"weighting": "quadratic", "num_classes": 4}


case("cohen_kappa", _kappa, lambda p, t, weighting, num_classes: skm.cohen_kappa_score(t, p, weights=weighting))


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


case("roc_auc", _scores(4), _skscore(skm.roc_auc_score, multi_class="ovr"))
case("average_precision", _scores(2), lambda s, t: skm.average_precision_score(t, s))
case("log_loss", _scores(5), _skscore(skm.log_loss))
case("top_k_accuracy", lambda rng: (probs(rng, 6), {"k": 3}), _skscore(skm.top_k_accuracy_score))


def _hinge(rng: np.random.Generator) -> Inputs:
    s, t = probs(rng, 4)
    return (np.log(s) + 1.0, t), {}


case("hinge_loss", _hinge, lambda d, t: skm.hinge_loss(t, d, labels=list(range(d.shape[1]))))


# ----------------------------------------------------------------------------- calibration
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


case("brier_score", _cal(4), _brier_ref)
case("ece", _cal(5, n_bins=10), lambda p, t, n_bins: _ece_ref(p, t, n_bins))
case("mce", _cal(3, n_bins=8), lambda p, t, n_bins: _ece_ref(p, t, n_bins, "mce"))
case("ace", _cal(4, n_bins=10), lambda p, t, n_bins: _ece_ref(p, t, n_bins, "ace"))
case("classwise_ece", _cal(3, n_bins=10), _classwise_ref)


# ----------------------------------------------------------------------------- segmentation
def _seg(k: int, nc: bool = False) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        t = rng.integers(0, k, (16, 16))
        p = np.where(rng.random((16, 16)) < 0.7, t, rng.integers(0, k, (16, 16)))
        return (p.astype(np.int32), t.astype(np.int32)), ({"num_classes": k} if nc else {})
    return make


def _per_class(p: np.ndarray, t: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inter = np.array([np.sum((p == c) & (t == c)) for c in range(k)], float)
    return inter, np.array([np.sum(p == c) for c in range(k)], float), np.array([np.sum(t == c) for c in range(k)], float)


def _miou(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    u = a + b - i
    return float(np.mean(i[u > 0] / u[u > 0]))


def _fwiou(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    u = a + b - i
    return float(np.sum(b[u > 0] * i[u > 0] / u[u > 0]) / b.sum())


def _mdice(p: np.ndarray, t: np.ndarray, num_classes: int) -> float:
    i, a, b = _per_class(p, t, num_classes)
    d = a + b
    return float(np.mean(2 * i[d > 0] / d[d > 0]))


case("iou", _seg(2), lambda p, t: skm.jaccard_score(t.ravel(), p.ravel()))
case("dice", _seg(2), lambda p, t: skm.f1_score(t.ravel(), p.ravel()))
case("mean_iou", _seg(5, nc=True), _miou)
case("frequency_weighted_iou", _seg(4, nc=True), _fwiou)
case("mean_dice", _seg(3, nc=True), _mdice)
case("pixel_accuracy", _seg(4), lambda p, t: np.mean(p == t))


# ----------------------------------------------------------------------------- distance
def _vec(rng: np.random.Generator, n: int = 12) -> Inputs:
    return (rng.normal(size=n), rng.normal(size=n)), {}


def _pos(rng: np.random.Generator) -> Inputs:
    return (rng.uniform(0.1, 2.0, 12), rng.uniform(0.1, 2.0, 12)), {}


def _bits(rng: np.random.Generator) -> Inputs:
    return (rng.integers(0, 2, 20).astype(np.int32), rng.integers(0, 2, 20).astype(np.int32)), {}


def _ball(rng: np.random.Generator) -> Inputs:
    x, y = rng.normal(size=(2, 4))
    return (0.8 * x / (1 + np.linalg.norm(x)), 0.8 * y / (1 + np.linalg.norm(y))), {}


def _maha(rng: np.random.Generator) -> Inputs:
    a = rng.normal(size=(5, 5))
    return (rng.normal(size=5), rng.normal(size=5)), {"inverse_covariance": a @ a.T + 0.5 * np.eye(5)}


def _poincare_ref(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.arccosh(1 + 2 * np.sum((x - y) ** 2) / ((1 - x @ x) * (1 - y @ y))))


def _angular_ref(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.arccos(np.clip(1 - ssd.cosine(x, y), -1, 1)) / np.pi)


import scipy.spatial.distance as ssd  # noqa: E402

case("euclidean", _vec, ssd.euclidean)
case("sqeuclidean", _vec, ssd.sqeuclidean)
case("manhattan", _vec, ssd.cityblock)
case("chebyshev", _vec, ssd.chebyshev)
case("minkowski", lambda rng: (_vec(rng)[0], {"p": 3.0}), lambda x, y, p: ssd.minkowski(x, y, p))
case("cosine_distance", _vec, ssd.cosine)
case("angular_distance", _vec, _angular_ref, rtol=1e-4)
case("correlation_distance", _vec, ssd.correlation)
case("canberra", _vec, ssd.canberra)
case("braycurtis", _pos, ssd.braycurtis)
case("mahalanobis", _maha, lambda x, y, inverse_covariance: ssd.mahalanobis(x, y, inverse_covariance))
case("hamming_distance", _bits, ssd.hamming)
case("jaccard_distance", _bits, lambda x, y: ssd.jaccard(x.astype(bool), y.astype(bool)))
case("poincare", _ball, _poincare_ref)


# ----------------------------------------------------------------------------- divergence
import scipy.stats as sst  # noqa: E402


def _pq(rng: np.random.Generator) -> Inputs:
    return (simplex(rng, 8, (3,)), simplex(rng, 8, (3,))), {}


def _rows(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    def ref(p: np.ndarray, q: np.ndarray, **kw: Any) -> float:
        return float(np.mean([fn(a, b, **kw) for a, b in zip(p, q, strict=True)]))
    return ref


def _samples1d(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=40), rng.normal(0.3, 1.2, size=30)), {}


def _clouds(rng: np.random.Generator, n: int = 24, m: int = 20) -> Inputs:
    return (rng.uniform(size=(n, 2)), rng.uniform(size=(m, 2)) + 0.2), {}


def _mmd_ref(x: np.ndarray, y: np.ndarray, bandwidth: float = 1.0) -> float:
    k = lambda a, b: np.exp(-ssd.cdist(a, b, "sqeuclidean") / (2 * bandwidth**2))  # noqa: E731
    return float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())


def _sinkhorn_ref(x: np.ndarray, y: np.ndarray, epsilon: float, iterations: int) -> float:
    cost = ssd.cdist(x, y, "sqeuclidean")
    kern = np.exp(-cost / epsilon)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    v = np.ones(len(y))
    for _ in range(iterations):
        u = a / (kern @ v)
        v = b / (kern.T @ u)
    return float(np.sum(u[:, None] * kern * v[None, :] * cost))


def _sliced(rng: np.random.Generator) -> Inputs:
    x, y = rng.normal(size=(2, 30, 3))
    return (x, y + 0.5), {"projections": rng.normal(size=(16, 3))}


def _sliced_ref(x: np.ndarray, y: np.ndarray, projections: np.ndarray) -> float:
    d = projections / np.linalg.norm(projections, axis=1, keepdims=True)
    return float(np.sqrt(np.mean((np.sort(x @ d.T, axis=0) - np.sort(y @ d.T, axis=0)) ** 2)))


def _renyi(p: np.ndarray, q: np.ndarray, alpha: float) -> float:
    return float(np.log(np.sum(p**alpha * q ** (1 - alpha))) / (alpha - 1))


case("kl_divergence", _pq, _rows(lambda p, q: sst.entropy(p, q)))
case("jeffreys", _pq, _rows(lambda p, q: sst.entropy(p, q) + sst.entropy(q, p)))
case("js_divergence", _pq, _rows(lambda p, q: ssd.jensenshannon(p, q) ** 2))
case("total_variation", _pq, _rows(lambda p, q: 0.5 * np.abs(p - q).sum()))
case("hellinger", _pq, _rows(lambda p, q: np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))))
case("bhattacharyya", _pq, _rows(lambda p, q: -np.log(np.sum(np.sqrt(p * q)))), rtol=1e-4, atol=1e-5)
case("chi_squared", _pq, _rows(lambda p, q: np.sum((p - q) ** 2 / q)))
case("renyi_divergence", lambda rng: (_pq(rng)[0], {"alpha": 2.5}), _rows(_renyi))
case("wasserstein_1d", _samples1d, sst.wasserstein_distance)
case("energy_distance", _samples1d, sst.energy_distance)
case("ks_statistic", _samples1d, lambda x, y: sst.ks_2samp(x, y).statistic)
case("mmd", lambda rng: (_clouds(rng)[0], {"bandwidth": 0.5}), _mmd_ref)
case("sinkhorn", lambda rng: (_clouds(rng)[0], {"epsilon": 0.05, "iterations": 300}), _sinkhorn_ref, rtol=1e-4)
case("sliced_wasserstein", _sliced, _sliced_ref)


# ----------------------------------------------------------------------------- information
def _labelings(k: int, nc: bool = True) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        p, t = labels(rng, k, n=80)
        return (p, t), ({"num_classes": k} if nc else {})
    return make


def _h(counts: np.ndarray) -> float:
    return float(sst.entropy(counts[counts > 0]))


def _joint(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return skm.cluster.contingency_matrix(x, y)


case("entropy", lambda rng: ((simplex(rng, 10, (2,)) * 3.0,), {"base": 2.0}),
     lambda p, base: np.mean(sst.entropy(p, base=base, axis=-1)))
case("cross_entropy", _pq, _rows(lambda p, q: -np.sum(p * np.log(q))))
case("mutual_information", _labelings(4), lambda x, y, num_classes: skm.mutual_info_score(x, y))
case("normalized_mutual_information", _labelings(4),
     lambda x, y, num_classes: skm.normalized_mutual_info_score(x, y))
case("joint_entropy", _labelings(3), lambda x, y, num_classes: _h(_joint(x, y).ravel()))
case("conditional_entropy", _labelings(3),
     lambda x, y, num_classes: _h(_joint(x, y).ravel()) - _h(np.bincount(y)))
case("variation_of_information", _labelings(3),
     lambda x, y, num_classes: 2 * _h(_joint(x, y).ravel()) - _h(np.bincount(x)) - _h(np.bincount(y)))


# ----------------------------------------------------------------------------- ranking
def _queries(rng: np.random.Generator, k: int | None = None, graded: bool = False) -> Inputs:
    s = rng.normal(size=(6, 10))
    rel = rng.integers(0, 4, (6, 10)) if graded else (rng.random((6, 10)) < 0.3).astype(np.int32)
    rel[0] = 0  # a query with nothing relevant
    return (s, rel.astype(np.int32)), ({} if k is None else {"k": k})


def _topk(s: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def _per_query(fn: Callable[..., float]) -> Callable[..., float]:
    def ref(s: np.ndarray, r: np.ndarray, **kw: Any) -> float:
        return float(np.mean([fn(a, b, **kw) for a, b in zip(s, r, strict=True)]))
    return ref


def _mrr_q(s: np.ndarray, r: np.ndarray, k: int | None = None) -> float:
    order = np.argsort(-s, kind="stable")[: k or len(s)]
    hits = np.nonzero(r[order] > 0)[0]
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def _ap_q(s: np.ndarray, r: np.ndarray, k: int | None = None) -> float:
    k = k or len(s)
    order = np.argsort(-s, kind="stable")[:k]
    hits, total = 0, 0.0
    for i, item in enumerate(order, start=1):
        if r[item] > 0:
            hits += 1
            total += hits / i
    n_rel = min(int(np.sum(r > 0)), k)
    return total / n_rel if n_rel else 0.0


def _recall_q(s: np.ndarray, r: np.ndarray, k: int) -> float:
    n = np.sum(r > 0)
    return float(np.sum(r[np.argsort(-s, kind="stable")[:k]] > 0) / n) if n else 0.0


case("dcg", lambda rng: _queries(rng, 5, graded=True), lambda s, r, k: skm.dcg_score(r, s, k=k))
case("ndcg", lambda rng: _queries(rng, None, graded=True), lambda s, r: skm.ndcg_score(r, s))
case("mrr", lambda rng: _queries(rng, 4), _per_query(_mrr_q))
case("mean_average_precision", lambda rng: _queries(rng, 6), _per_query(_ap_q))
case("precision_at_k", lambda rng: _queries(rng, 3),
     _per_query(lambda s, r, k: np.mean(r[np.argsort(-s, kind="stable")[:k]] > 0)))
case("recall_at_k", lambda rng: _queries(rng, 3), _per_query(_recall_q))
case("hit_rate", lambda rng: _queries(rng, 2),
     _per_query(lambda s, r, k: float(np.any(r[np.argsort(-s, kind="stable")[:k]] > 0))))


def _lrap(rng: np.random.Generator) -> Inputs:
    (s, r), _ = _queries(rng)
    r[0, 0] = 1
    return (s, r), {}


case("label_ranking_average_precision", _lrap, lambda s, r: skm.label_ranking_average_precision_score(r > 0, s))
case("coverage", lambda rng: ((rng.normal(size=(5, 30)),), {"k": 3}),
     lambda s, k: len(np.unique(_topk(s, k))) / s.shape[1])


# ----------------------------------------------------------------------------- statistical
def _corr(rng: np.random.Generator) -> Inputs:
    x = rng.normal(size=N)
    return (x, 0.6 * x + rng.normal(size=N)), {}


def _ties(rng: np.random.Generator) -> Inputs:
    return (rng.integers(0, 6, N).astype(float), rng.integers(0, 6, N).astype(float)), {}


def _ccc(x: np.ndarray, y: np.ndarray) -> float:
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return float(2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))


def _one(rng: np.random.Generator) -> Inputs:
    return (rng.gamma(2.0, size=N),), {}


case("pearson", _corr, lambda x, y: sst.pearsonr(x, y).statistic)
case("spearman", _ties, lambda x, y: sst.spearmanr(x, y).statistic)
case("kendall_tau", _ties, lambda x, y: sst.kendalltau(x, y).statistic)
case("concordance_correlation", _corr, _ccc)
case("r2_adjusted", lambda rng: (reg_pair(rng), {"n_features": 3}),
     lambda p, t, n_features: 1 - (1 - skm.r2_score(t, p)) * (len(t) - 1) / (len(t) - n_features - 1))
case("skewness", _one, sst.skew)
case("kurtosis", _one, sst.kurtosis)
case("variation", _one, sst.variation)


# ----------------------------------------------------------------------------- clustering
def _clusterings(k: int) -> Callable[[np.random.Generator], Inputs]:
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
    return lambda a, b, num_clusters: fn(a, b)


case("rand_index", _clusterings(4), _skcl(skm.rand_score))
case("adjusted_rand_index", _clusterings(4), _skcl(skm.adjusted_rand_score))
case("adjusted_mutual_information", _clusterings(3), _skcl(skm.adjusted_mutual_info_score), rtol=1e-4)
case("normalized_mutual_info_clustering", _clusterings(5), _skcl(skm.normalized_mutual_info_score))
case("v_measure", _clusterings(4), _skcl(skm.v_measure_score))
case("homogeneity", _clusterings(4), _skcl(skm.homogeneity_score))
case("completeness", _clusterings(3), _skcl(skm.completeness_score))
case("fowlkes_mallows", _clusterings(4), _skcl(skm.fowlkes_mallows_score))
case("silhouette_score", _blobs, _skcl(skm.silhouette_score))
case("calinski_harabasz", _blobs, _skcl(skm.calinski_harabasz_score), rtol=1e-4)
case("davies_bouldin", _blobs, _skcl(skm.davies_bouldin_score))


# ----------------------------------------------------------------------------- image
import scipy.signal as ssg  # noqa: E402


def _imgs(rng: np.random.Generator, shape: tuple[int, ...] = (2, 24, 24)) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(size=shape)
    return np.clip(t + 0.1 * rng.normal(size=shape), 0, 1), t


def _ssim_ref_parts(p: np.ndarray, t: np.ndarray, k: int, sigma: float = 1.5) -> tuple[float, float]:
    x = np.arange(k) - (k - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    w = np.outer(g, g)
    f = lambda im: ssg.convolve2d(im, w, mode="valid")  # noqa: E731
    c1, c2 = 0.01**2, 0.03**2
    mp, mt = f(p), f(t)
    vp, vt, cv = f(p * p) - mp**2, f(t * t) - mt**2, f(p * t) - mp * mt
    cs = (2 * cv + c2) / (vp + vt + c2)
    return float(np.mean((2 * mp * mt + c1) / (mp**2 + mt**2 + c1) * cs)), float(np.mean(cs))


def _ssim_ref(p: np.ndarray, t: np.ndarray, kernel_size: int = 11) -> float:
    return float(np.mean([_ssim_ref_parts(a, b, kernel_size)[0] for a, b in zip(p, t, strict=True)]))


def _ms_ssim_ref(p: np.ndarray, t: np.ndarray, kernel_size: int) -> float:
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    out = []
    for a, b in zip(p, t, strict=True):
        val = 1.0
        for j, wj in enumerate(weights):
            s, cs = _ssim_ref_parts(a, b, kernel_size)
            val *= max(s if j == len(weights) - 1 else cs, 0.0) ** wj
            if j == len(weights) - 1:
                break
            a = a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3))
            b = b.reshape(b.shape[0] // 2, 2, b.shape[1] // 2, 2).mean(axis=(1, 3))
        out.append(val)
    return float(np.mean(out))


case("psnr", lambda rng: (_imgs(rng), {"data_range": 1.0}),
     lambda p, t, data_range: 10 * np.log10(data_range**2 / np.mean((p - t) ** 2)))
case("ssim", lambda rng: (_imgs(rng), {"kernel_size": 7}), _ssim_ref)
case("ms_ssim", lambda rng: (_imgs(rng, (1, 48, 48)), {"kernel_size": 3}), _ms_ssim_ref)


# ----------------------------------------------------------------------------- audio
def _signals(rng: np.random.Generator) -> Inputs:
    r = rng.normal(size=(3, 200))
    return (0.8 * r + 0.3 * rng.normal(size=(3, 200)), r), {}


def _spectra(rng: np.random.Generator) -> Inputs:
    r = rng.uniform(0.1, 2.0, (20, 16))
    return (r * rng.uniform(0.5, 1.5, (20, 16)), r), {}


def _si_sdr_ref(e: np.ndarray, r: np.ndarray) -> float:
    out = []
    for a, b in zip(e, r, strict=True):
        a, b = a - a.mean(), b - b.mean()
        target = (a @ b) / (b @ b) * b
        out.append(10 * np.log10(np.sum(target**2) / np.sum((a - target) ** 2)))
    return float(np.mean(out))


case("snr", _signals, lambda e, r: np.mean(10 * np.log10(np.sum(r**2, -1) / np.sum((r - e) ** 2, -1))))
case("si_sdr", _signals, _si_sdr_ref)
case("spectral_convergence", _spectra, lambda e, r: np.linalg.norm(r - e) / np.linalg.norm(r))
case("log_spectral_distance", _spectra,
     lambda e, r: np.mean(np.sqrt(np.mean((10 * np.log10((r + 1e-10) / (e + 1e-10))) ** 2, axis=1))))
case("mel_cepstral_distortion", lambda rng: ((rng.normal(size=(30, 13)), rng.normal(size=(30, 13))), {}),
     lambda e, r: np.mean(10 / np.log(10) * np.sqrt(2 * np.sum((e - r)[:, 1:] ** 2, axis=1))))


# ----------------------------------------------------------------------------- text
from collections import Counter  # noqa: E402


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


case("bleu", lambda rng: _text_pair(rng, max_n=2), _bleu_ref)
case("rouge_n", lambda rng: _text_pair(rng, n=2), _rouge_n_ref)
case("rouge_l", _text_pair,
     lambda h, r: _f1_ref(sum(_lcs_ref(_seq(a), _seq(b)) for a, b in zip(h, r, strict=True)), _n_ref(h), _n_ref(r)))
case("edit_distance", _text_pair, _edits)
case("word_error_rate", _text_pair, lambda h, r: _edits(h, r) / _n_ref(r))
case("character_error_rate", _text_pair, lambda h, r: _edits(h, r) / _n_ref(r))
case("distinct_n", lambda rng: ((_tokens(rng, vocab=3),), {"n": 2}), _distinct_ref)
case("perplexity", _ppl, _ppl_ref)


# ----------------------------------------------------------------------------- geometric
from scipy.spatial.distance import directed_hausdorff as _dh  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402


def _points(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=(20, 3)), rng.normal(size=(15, 3)) + 0.3), {}


def _corresponding(rng: np.random.Generator) -> Inputs:
    x = rng.normal(size=(12, 3))
    y = Rotation.random(random_state=int(rng.integers(1 << 30))).apply(x) + 1.0 + 0.1 * rng.normal(size=(12, 3))
    return (x, y), {"align": True}


def _rmsd_ref(x: np.ndarray, y: np.ndarray, align: bool) -> float:
    xc, yc = x - x.mean(0), y - y.mean(0)
    _, rssd = Rotation.align_vectors(yc, xc)
    return float(rssd / np.sqrt(len(x)))


case("chamfer", _points, lambda x, y: ssd.cdist(x, y, "sqeuclidean").min(1).mean() + ssd.cdist(x, y, "sqeuclidean").min(0).mean())
case("directed_hausdorff", _points, lambda x, y: _dh(x, y)[0])
case("hausdorff", _points, lambda x, y: max(_dh(x, y)[0], _dh(y, x)[0]))
case("rmsd", _corresponding, _rmsd_ref)


# ----------------------------------------------------------------------------- graph
import scipy.sparse.csgraph as csg  # noqa: E402


def _graphs(rng: np.random.Generator, n: int = 7) -> Inputs:
    out = []
    for _ in range(2):
        w = np.triu(rng.uniform(0.5, 2.0, (n, n)) * (rng.random((n, n)) < 0.6), 1)
        w[np.arange(n - 1), np.arange(1, n)] = rng.uniform(0.5, 2.0, n - 1)  # a path keeps it connected
        out.append(w + w.T)
    return tuple(out), {}


def _lap(a: np.ndarray) -> np.ndarray:
    return np.diag(a.sum(1)) - a


def _res(a: np.ndarray) -> np.ndarray:
    lp = np.linalg.pinv(_lap(a))
    return np.diag(lp)[:, None] + np.diag(lp)[None, :] - 2 * lp


case("spectral_distance", _graphs,
     lambda a, b: np.linalg.norm(np.linalg.eigvalsh(_lap(a)) - np.linalg.eigvalsh(_lap(b))))
case("shortest_path_distance", _graphs,
     lambda a, b: np.mean(np.abs(csg.shortest_path(a, directed=False) - csg.shortest_path(b, directed=False))))
case("resistance_distance", _graphs, lambda a, b: np.mean(np.abs(_res(a) - _res(b))), rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- manifold
import scipy.linalg as sla  # noqa: E402


def _spd_pair(rng: np.random.Generator, n: int = 4) -> Inputs:
    out = []
    for _ in range(2):
        a = rng.normal(size=(n, n))
        out.append(a @ a.T + 0.5 * np.eye(n))
    return tuple(out), {}


def _affine_ref(a: np.ndarray, b: np.ndarray) -> float:
    r = np.linalg.inv(sla.sqrtm(a))
    return float(np.linalg.norm(sla.logm(r @ b @ r), "fro"))


case("spd_affine_invariant", _spd_pair, _affine_ref, rtol=1e-4)
case("spd_log_euclidean", _spd_pair, lambda a, b: np.linalg.norm(sla.logm(a) - sla.logm(b), "fro"), rtol=1e-4)
case("grassmann", lambda rng: ((rng.normal(size=(6, 2)), rng.normal(size=(6, 2))), {}),
     lambda a, b: np.linalg.norm(sla.subspace_angles(a, b)), rtol=1e-4)


# ----------------------------------------------------------------------------- fairness
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


case("demographic_parity_difference", _fair, _dpd)
case("demographic_parity_ratio", _fair,
     lambda p, t, g, num_groups: min(r := _group_rates(p, np.ones_like(p, bool), g, num_groups)) / max(r))
case("equal_opportunity_difference", _fair,
     lambda p, t, g, num_groups: max(r := _group_rates(p, t == 1, g, num_groups)) - min(r))
case("equalized_odds_difference", _fair, _eod)
case("disparate_impact", lambda rng: _fair(rng, privileged=2), _di)


# ----------------------------------------------------------------------------- forecasting
def _ens(rng: np.random.Generator) -> Inputs:
    y = rng.normal(size=30)
    return (y[:, None] + rng.normal(size=(30, 9)), y), {}


def _crps_ref(e: np.ndarray, y: np.ndarray, fair: bool = False) -> float:
    m = e.shape[1]
    pair = np.abs(e[:, :, None] - e[:, None, :]).sum(axis=(1, 2))
    spread = pair / (2 * m * (m - 1)) if fair else pair / (2 * m * m)
    return float(np.mean(np.abs(e - y[:, None]).mean(1) - spread))


def _energy_ref(e: np.ndarray, y: np.ndarray) -> float:
    out = [np.linalg.norm(x - o, axis=1).mean() - 0.5 * ssd.cdist(x, x).mean() for x, o in zip(e, y, strict=True)]
    return float(np.mean(out))


def _rps_ref(p: np.ndarray, y: np.ndarray) -> float:
    k = p.shape[1]
    return float(np.mean(np.sum((np.cumsum(p, 1) - np.cumsum(np.eye(k)[y], 1)) ** 2, 1) / (k - 1)))


def _mase_case(rng: np.random.Generator) -> Inputs:
    p, t = reg_pair(rng, 12)
    return (p, t), {"history": np.cumsum(rng.normal(size=40)), "season": 4}


case("crps", _ens, _crps_ref)
case("fair_crps", _ens, lambda e, y: _crps_ref(e, y, fair=True))
case("energy_score", lambda rng: ((rng.normal(size=(10, 6, 3)), rng.normal(size=(10, 3))), {}), _energy_ref)
case("ranked_probability_score", lambda rng: (probs(rng, 5), {}), _rps_ref)
case("mase", _mase_case,
     lambda p, t, history, season: np.mean(np.abs(p - t)) / np.mean(np.abs(history[season:] - history[:-season])))


# ----------------------------------------------------------------------------- uncertainty
def _intervals(rng: np.random.Generator, **kw: Any) -> Inputs:
    c = rng.normal(size=N)
    w = rng.uniform(0.2, 2.0, N)
    return (c - w, c + w, c + rng.normal(size=N)), kw


def _iscore(lo: np.ndarray, hi: np.ndarray, y: np.ndarray, alpha: float) -> float:
    return float(np.mean((hi - lo) + 2 / alpha * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))))


def _gauss(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=N), rng.uniform(0.2, 2.0, N), rng.normal(size=N)), {}


case("picp", _intervals, lambda lo, hi, y: np.mean((y >= lo) & (y <= hi)))
case("mpiw", _intervals, lambda lo, hi, y: np.mean(hi - lo))
case("interval_score", lambda rng: _intervals(rng, alpha=0.2), _iscore)
case("gaussian_nll", _gauss, lambda m, v, y: np.mean(0.5 * (np.log(v) + (y - m) ** 2 / v)))


# ----------------------------------------------------------------------------- generative
def _feats(rng: np.random.Generator, n: int = 40, m: int = 36, d: int = 5) -> Inputs:
    mix = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ mix, rng.normal(size=(m, d)) @ (mix + 0.3 * rng.normal(size=(d, d))) + 0.2), {}


def _fid_ref(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = sla.sqrtm(c1 @ c2).real
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(c1 + c2 - 2 * covmean))


def _kid_ref(a: np.ndarray, b: np.ndarray) -> float:
    d = a.shape[1]
    k = lambda u, v: (u @ v.T / d + 1) ** 3  # noqa: E731
    n, m = len(a), len(b)
    kaa, kbb = k(a, a), k(b, b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2 * k(a, b).mean())


def _is_ref(p: np.ndarray) -> float:
    marg = p.mean(0)
    return float(np.exp(np.mean([sst.entropy(row, marg) for row in p])))


def _prd_ref(support: np.ndarray, queries: np.ndarray, k: int) -> float:
    radius = np.sort(ssd.cdist(support, support), axis=1)[:, k]
    return float(np.mean((ssd.cdist(queries, support) <= radius[None, :]).any(axis=1)))


def _mem_ref(train: np.ndarray, gen: np.ndarray, ratio: float) -> float:
    d = np.sort(ssd.cdist(gen, train), axis=1)
    return float(np.mean(d[:, 0] < ratio * d[:, 1]))


def _memo(rng: np.random.Generator) -> Inputs:
    train = rng.normal(size=(30, 4))
    gen = np.concatenate([train[:8] + 0.01 * rng.normal(size=(8, 4)), rng.normal(size=(12, 4))])
    return (train, gen), {"ratio": 1 / 3}


case("frechet_distance", _feats, _fid_ref, rtol=1e-4, atol=1e-5)  # non-commuting covariances
case("kid", _feats, _kid_ref, rtol=1e-4, atol=1e-4)
case("inception_score", lambda rng: ((probs(rng, 6)[0],), {}), _is_ref)
case("manifold_precision", lambda rng: (_feats(rng)[0], {"k": 3}), lambda a, b, k: _prd_ref(a, b, k))
case("manifold_recall", lambda rng: (_feats(rng)[0], {"k": 3}), lambda a, b, k: _prd_ref(b, a, k))
case("memorization_rate", _memo, _mem_ref)
