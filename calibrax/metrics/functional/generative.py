"""Generative-model scores on features: ``fn(generated, real)`` with ``(n, d)`` feature
arrays (from any extractor), the model's samples first as predictions come first everywhere,
except ``inception_score``, which takes class probabilities of generated samples, and
``memorization_rate``, which compares generated samples with training samples.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
from jax import Array
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_ndim, pairwise_sq_dists
from calibrax.metrics.registry import Signature, builtin

__all__ = [
    "frechet_distance", "inception_score", "kid", "manifold_precision", "manifold_recall", "memorization_rate",
]

_GR = Signature.GENERATED_REAL
_metric = partial(builtin, domain="generative")


def _features(real: ArrayLike, generated: ArrayLike) -> tuple[Array, Array]:
    a, b = as_float(real, "real"), as_float(generated, "generated")
    check_ndim(a, "real", (2,))
    check_ndim(b, "generated", (2,))
    if a.shape[1] != b.shape[1]:
        raise MetricInputError(
            f"generated and real need the same feature size; got generated {b.shape} and real {a.shape}."
        )
    dtype = jnp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _cov(x: Array) -> Array:
    d = x - x.mean(axis=0)
    return d.T @ d / (x.shape[0] - 1)


def frechet_from_moments(mu1: Array, cov1: Array, mu2: Array, cov2: Array) -> Array:
    """|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^1/2), with tr((C1 C2)^1/2) taken as the sum of
    square roots of the eigenvalues of C1^1/2 C2 C1^1/2 (symmetric, so ``eigh`` is exact).

    Example:
        >>> float(frechet_from_moments(jnp.zeros(2), jnp.eye(2), jnp.ones(2), jnp.eye(2)))
        2.0
    """
    w, v = jnp.linalg.eigh(cov1)
    root1 = (v * jnp.sqrt(jnp.maximum(w, 0.0))) @ v.T
    m = root1 @ cov2 @ root1
    eig = jnp.linalg.eigvalsh(0.5 * (m + m.T))
    tr_sqrt = jnp.sum(jnp.sqrt(jnp.maximum(eig, 0.0)))
    return jnp.sum((mu1 - mu2) ** 2) + jnp.trace(cov1) + jnp.trace(cov2) - 2.0 * tr_sqrt


@_metric("frechet_distance", Direction.LOWER, _GR, symmetric=True, differentiable=True,
         invariances={"translation", "rotation", "permutation"})
def frechet_distance(generated: ArrayLike, real: ArrayLike) -> Array:
    """Frechet distance between Gaussians fitted to two feature sets (FID on Inception
    features).

    Example:
        >>> x = jnp.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
        >>> round(float(frechet_distance(x, x + 1.0)), 4)
        2.0

    References:
        Heusel et al. (2017), GANs trained by a two time-scale update rule converge to a local
        Nash equilibrium.
    """
    a, b = _features(real, generated)
    xa, xb = a - a.mean(axis=0), b - b.mean(axis=0)
    # With X = QR, X^T X = R^T R, and the eigenvalues of C1 C2 are the squared singular values
    # of R1 R2^T: the SVD keeps small ones accurate where square roots of eigenvalues do not.
    r1 = jnp.linalg.qr(xa, mode="r")
    r2 = jnp.linalg.qr(xb, mode="r")
    tr_sqrt = jnp.sum(jnp.linalg.svd(r1 @ r2.T, compute_uv=False)) / jnp.sqrt((a.shape[0] - 1.0) * (b.shape[0] - 1.0))
    tr1 = jnp.sum(xa * xa) / (a.shape[0] - 1)
    tr2 = jnp.sum(xb * xb) / (b.shape[0] - 1)
    return jnp.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2) + tr1 + tr2 - 2.0 * tr_sqrt


@_metric("kid", Direction.LOWER, _GR, symmetric=True, differentiable=True,
         invariances={"rotation", "permutation"})
def kid(generated: ArrayLike, real: ArrayLike, *, degree: int = 3, coef0: float = 1.0) -> Array:
    """Kernel inception distance: unbiased MMD^2 with the kernel (x.y / d + coef0)^degree.

    Example:
        >>> x = jnp.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
        >>> round(float(kid(x, x + 1.0)), 4)
        8.9167

    References:
        Binkowski et al. (2018), Demystifying MMD GANs.
    """
    a, b = _features(real, generated)
    d = a.shape[1]
    k = lambda u, v: (u @ v.T / d + coef0) ** degree  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    n, m = a.shape[0], b.shape[0]
    within_a = (kaa.sum() - jnp.trace(kaa)) / (n * (n - 1))
    within_b = (kbb.sum() - jnp.trace(kbb)) / (m * (m - 1))
    return within_a + within_b - 2.0 * kab.mean()


@_metric("inception_score", Direction.HIGHER, Signature.SINGLE, differentiable=True,
         invariances={"permutation"})
def inception_score(probs: ArrayLike) -> Array:
    """Inception score exp(E_x KL(p(y|x) || p(y))) of class probabilities (n, K).

    Example:
        >>> round(float(inception_score(jnp.eye(3))), 4)
        3.0

    References:
        Salimans et al. (2016), Improved techniques for training GANs.
    """
    p = as_float(probs, "probs")
    check_ndim(p, "probs", (2,))
    marginal = p.mean(axis=0, keepdims=True)
    kl = jnp.sum(xlogy(p, p) - xlogy(p, marginal), axis=1)
    return jnp.exp(jnp.mean(kl))


def _knn_radius(x: Array, k: int) -> Array:
    """Distance from each row of x to its k-th nearest other row."""
    if not 1 <= k < x.shape[0]:
        raise MetricInputError(f"k must be in [1, {x.shape[0] - 1}] for {x.shape[0]} samples; got {k}.")
    d = pairwise_sq_dists(x, x)
    return jnp.sqrt(jnp.maximum(jnp.sort(d, axis=1)[:, k], 0.0))


def _coverage_of(support: Array, queries: Array, k: int) -> Array:
    radius = _knn_radius(support, k)
    d = jnp.sqrt(jnp.maximum(pairwise_sq_dists(queries, support), 0.0))
    return jnp.mean(jnp.any(d <= radius[None, :], axis=1).astype(support.dtype))


@_metric("manifold_precision", Direction.HIGHER, _GR, non_negative=True,
         invariances={"translation", "rotation", "scale", "permutation"})
def manifold_precision(generated: ArrayLike, real: ArrayLike, *, k: int = 3) -> Array:
    """Improved precision: the fraction of generated samples inside the k-NN balls of the real
    samples.

    Example:
        >>> real, generated = jnp.array([[0.0], [1.0], [2.0]]), jnp.array([[0.5], [9.0]])
        >>> float(manifold_precision(generated, real, k=1))
        0.5

    References:
        Kynkaanniemi et al. (2019), Improved precision and recall metric for assessing
        generative models.
    """
    a, b = _features(real, generated)
    return _coverage_of(a, b, k)


@_metric("manifold_recall", Direction.HIGHER, _GR, non_negative=True,
         invariances={"translation", "rotation", "scale", "permutation"})
def manifold_recall(generated: ArrayLike, real: ArrayLike, *, k: int = 3) -> Array:
    """Improved recall: the fraction of real samples inside the k-NN balls of the generated
    samples.

    Example:
        >>> real, generated = jnp.array([[0.0], [1.0], [2.0]]), jnp.array([[0.0], [0.5], [9.0]])
        >>> float(manifold_recall(generated, real, k=1))
        1.0

    References:
        Kynkaanniemi et al. (2019), Improved precision and recall metric for assessing
        generative models.
    """
    a, b = _features(real, generated)
    return _coverage_of(b, a, k)


@_metric("memorization_rate", Direction.LOWER, _GR, non_negative=True,
         invariances={"translation", "rotation", "scale", "permutation"})
def memorization_rate(generated: ArrayLike, training: ArrayLike, *, ratio: float = 1.0 / 3.0) -> Array:
    """Fraction of generated samples whose nearest training sample is much closer than the
    second nearest: d1 / d2 < ``ratio``.

    Example:
        >>> train = jnp.array([[0.0], [10.0]])
        >>> float(memorization_rate(jnp.array([[0.1], [5.0]]), train))
        0.5

    References:
        Yoon et al. (2023), Diffusion probabilistic models generalize when they fail to memorize.
    """
    a, b = _features(training, generated)
    if a.shape[0] < 2:
        raise MetricInputError(f"memorization_rate needs at least 2 training samples; got {a.shape[0]}.")
    d = jnp.sqrt(jnp.maximum(jnp.sort(pairwise_sq_dists(b, a), axis=1)[:, :2], 0.0))
    return jnp.mean((d[:, 0] < ratio * d[:, 1]).astype(a.dtype))
