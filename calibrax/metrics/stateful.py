"""Tier 1: generative-model metrics over a frozen feature extractor, accumulated batch by batch.

Each metric holds an explicit state, fills it with ``update``, reads it with ``compute``,
empties it with ``reset`` and combines it with another instance's state with ``merge`` (two
merged states give the value of one pass over all their data, so shards of an evaluation can run
in separate processes). The extractor is ``None`` (inputs are features already), any callable
``batch -> (n, d) features``, or an ``nnx.Module`` whose weights load from a local file with
:func:`calibrax.metrics.load_weights`; nothing is downloaded.

States are kept in NumPy float64 and ``compute`` runs in float64 (JAX with x64 enabled for the
duration of the call), so long streams do not lose precision.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fid = FrechetInceptionDistance()
    >>> fid.update(rng.normal(size=(200, 4)), real=True).update(rng.normal(size=(200, 4)) + 1.0, real=False)
    FrechetInceptionDistance(real=200, generated=200)
    >>> 3.5 < fid.compute() < 4.5
    True
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple, Self, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from scipy.special import xlogy

from calibrax.core.models import Direction
from calibrax.metrics._extractor import FrozenExtractor, batches
from calibrax.metrics._state import FeatureBank, Moments, positive_int
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional.generative import frechet_from_moments
from calibrax.metrics.registry import Signature, Tier, builtin

__all__ = [
    "FeatureBank",
    "FrechetInceptionDistance",
    "FrozenExtractor",
    "InceptionScore",
    "KernelInceptionDistance",
    "MeanStd",
    "Moments",
    "PrecisionRecall",
    "PrecisionRecallValue",
    "fid",
    "improved_precision",
    "improved_recall",
    "kernel_inception_distance",
    "split_inception_score",
]

Extractor = Callable[[Any], Any] | None


class MeanStd(NamedTuple):
    """A score over subsets or splits: its mean and its (population) standard deviation."""

    mean: float
    std: float


class PrecisionRecallValue(NamedTuple):
    """Improved precision and recall, each in [0, 1]."""

    precision: float
    recall: float


class _Stateful(abc.ABC):
    """update/compute/reset/merge over an explicit state, with a frozen extractor in front."""

    def __init__(self, extractor: Extractor, jit: bool) -> None:
        self.extractor = FrozenExtractor(extractor, jit=jit)
        self.reset()

    def _options(self) -> tuple[Any, ...]:
        return ()

    @abc.abstractmethod
    def reset(self) -> Self:
        """Empty the state (the extractor and options stay). Returns ``self``."""

    def merge(self, other: Self) -> Self:
        """Add ``other``'s state to this one, as if this instance had seen its batches too.

        Raises:
            MetricInputError: ``other`` is another metric, has other options, or holds features
                of another size.
        """
        if type(other) is not type(self) or other._options() != self._options():
            raise MetricInputError(
                f"Only states of the same metric with the same options merge; got {type(self).__name__}"
                f"{self._options()} and {type(other).__name__}{getattr(other, '_options', tuple)()}."
            )
        self._merge(other)
        return self

    @abc.abstractmethod
    def _merge(self, other: Self) -> None:
        """Add ``other``'s state (same metric, same options) to this one."""


class _RealGenerated(_Stateful):
    """A metric that compares the features of real inputs with those of generated inputs."""

    real: Any
    generated: Any
    _empty: Callable[[], Any]

    def reset(self) -> Self:
        self.real, self.generated = self._empty(), self._empty()
        return self

    def update(self, batch: Any, *, real: bool) -> Self:
        """Extract features of ``batch`` and add them to the real or the generated side.

        Args:
            batch: inputs of the extractor (features themselves when it is ``None``), first axis
                the batch.
            real: True for real data, False for generated samples.

        Returns:
            ``self``, so updates chain.

        Raises:
            MetricInputError: ``real`` is not a bool, or the features are not (n, d) finite
                numbers of the size seen before.
        """
        if not isinstance(real, bool | np.bool_):
            raise MetricInputError(f"real must be True (real data) or False (generated samples); got {real!r}.")
        features = self.extractor(batch)
        if real:
            self.real = self.real.add(features)
        else:
            self.generated = self.generated.add(features)
        return self

    def _merge(self, other: Self) -> None:
        self.real, self.generated = self.real.merge(other.real), self.generated.merge(other.generated)

    def _need(self, at_least: int) -> None:
        if self.real.count < at_least or self.generated.count < at_least:
            raise MetricInputError(
                f"{type(self).__name__} needs at least {at_least} real and {at_least} generated samples; it "
                f"holds {self.real.count} real and {self.generated.count} generated. Call update(batch, "
                "real=True) and update(batch, real=False) first."
            )
        if self.real.dim != self.generated.dim:
            raise MetricInputError(
                f"Real features have {self.real.dim} values per input and generated ones {self.generated.dim}; "
                "both sides must go through the same extractor."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(real={self.real.count}, generated={self.generated.count})"


_frechet = jax.jit(frechet_from_moments)


class FrechetInceptionDistance(_RealGenerated):
    """FID: Frechet distance between Gaussians fitted to real and generated features.

    The state is the count, sum and sum of outer products of each side (float64), so memory does
    not grow with the number of samples and merging is exact.

    Args:
        extractor: ``None`` (inputs are features), a callable or an ``nnx.Module``.
        jit: compile an ``nnx.Module`` extractor.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(50, 3))
        >>> round(FrechetInceptionDistance().update(x, real=True).update(x, real=False).compute(), 6)
        0.0

    References:
        Heusel et al. (2017), GANs trained by a two time-scale update rule converge to a local
        Nash equilibrium.
    """

    _empty = Moments

    def __init__(self, extractor: Extractor = None, *, jit: bool = True) -> None:
        super().__init__(extractor, jit)

    def compute(self) -> float:
        """The FID of everything seen so far (rounding below zero is clamped to 0).

        Raises:
            MetricInputError: fewer than 2 samples on a side.
        """
        self._need(2)
        (mu1, c1), (mu2, c2) = self.real.mean_cov(), self.generated.mean_cov()
        with jax.enable_x64(True):
            value = _frechet(*(jnp.asarray(a, jnp.float64) for a in (mu1, c1, mu2, c2)))
            return max(float(value), 0.0)


@partial(jax.jit, static_argnames=("degree",))
def _mmd2_unbiased(x: Array, y: Array, degree: int, gamma: Array, coef0: Array) -> Array:
    """Unbiased MMD^2 of two equal-size samples with the kernel (gamma x.y + coef0)^degree."""
    def k(a: Array, b: Array) -> Array:
        return (gamma * (a @ b.T) + coef0) ** degree

    m = x.shape[0]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    within = (kxx.sum() - jnp.trace(kxx) + kyy.sum() - jnp.trace(kyy)) / (m * (m - 1))
    return within - 2.0 * kxy.sum() / (m * m)


class KernelInceptionDistance(_RealGenerated):
    """KID: unbiased MMD^2 with a polynomial kernel, averaged over random subsets.

    Each of ``subsets`` draws ``subset_size`` real and ``subset_size`` generated features
    without replacement (seeded, so ``compute`` is reproducible) and scores them with the kernel
    ``(gamma x.y + coef0)^degree``; the result is the mean and standard deviation over subsets.

    Args:
        extractor: ``None`` (inputs are features), a callable or an ``nnx.Module``.
        subsets: number of subsets.
        subset_size: samples per side in each subset (at least 2, at most the smaller side).
        degree: degree of the polynomial kernel.
        gamma: kernel scale; ``None`` means 1 / feature size.
        coef0: kernel offset.
        seed: seed of the subset draws.
        jit: compile an ``nnx.Module`` extractor.

    Raises:
        MetricInputError: an option out of range.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> kid = KernelInceptionDistance(subsets=5, subset_size=20)
        >>> score = kid.update(rng.normal(size=(40, 3)), real=True).update(rng.normal(size=(40, 3)) + 2,
        ...                                                                  real=False).compute()
        >>> score.mean > 0.5
        True

    References:
        Binkowski et al. (2018), Demystifying MMD GANs.
    """

    _empty = FeatureBank

    def __init__(self, extractor: Extractor = None, *, subsets: int = 100, subset_size: int = 1000,
                 degree: int = 3, gamma: float | None = None, coef0: float = 1.0, seed: int = 0,
                 jit: bool = True) -> None:
        self.subsets = positive_int(subsets, "subsets")
        self.subset_size = positive_int(subset_size, "subset_size")
        self.degree = positive_int(degree, "degree")
        if self.subset_size < 2:
            raise MetricInputError(f"subset_size must be at least 2 for the unbiased estimate; got {subset_size}.")
        if gamma is not None and not gamma > 0:
            raise MetricInputError(f"gamma must be positive or None (1 / feature size); got {gamma!r}.")
        self.gamma, self.coef0, self.seed = gamma, float(coef0), int(seed)
        super().__init__(extractor, jit)

    def _options(self) -> tuple[Any, ...]:
        return (self.subsets, self.subset_size, self.degree, self.gamma, self.coef0, self.seed)

    def compute(self) -> MeanStd:
        """Mean and standard deviation of the unbiased MMD^2 over the subsets.

        Raises:
            MetricInputError: fewer than ``subset_size`` samples on a side.
        """
        self._need(self.subset_size)
        x, y = self.real.array(), self.generated.array()
        rng = np.random.default_rng(self.seed)
        gamma = 1.0 / x.shape[1] if self.gamma is None else self.gamma
        scores = []
        with jax.enable_x64(True):
            for _ in range(self.subsets):
                i = rng.choice(x.shape[0], self.subset_size, replace=False)
                j = rng.choice(y.shape[0], self.subset_size, replace=False)
                scores.append(float(_mmd2_unbiased(jnp.asarray(x[i]), jnp.asarray(y[j]), self.degree,
                                                   jnp.float64(gamma), jnp.float64(self.coef0))))
        return MeanStd(float(np.mean(scores)), float(np.std(scores)))


def _to_probs(features: np.ndarray, from_logits: bool) -> np.ndarray:
    f = np.asarray(features, np.float64)
    if from_logits:
        e = np.exp(f - f.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if f.size and (f.min() < -1e-6 or not np.allclose(f.sum(axis=1), 1.0, atol=1e-3)):
        raise MetricInputError(
            "InceptionScore needs class probabilities (non-negative rows that sum to 1); the extractor "
            f"gave values in [{f.min():.3g}, {f.max():.3g}] with row sums up to {np.abs(f.sum(axis=1) - 1).max():.3g} "
            "away from 1. Pass from_logits=True if it returns logits."
        )
    return f


def _inception_score(p: np.ndarray) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) in float64, with 0 log 0 = 0."""
    kl = np.sum(xlogy(p, p) - xlogy(p, p.mean(axis=0, keepdims=True)), axis=1)
    return float(np.exp(kl.mean()))


class InceptionScore(_Stateful):
    """IS: exp(E_x KL(p(y|x) || p(y))) of the generated samples' class probabilities, over splits.

    The samples are cut, in arrival order, into ``splits`` consecutive parts of nearly equal
    size; the result is the mean and standard deviation of the score over the parts.

    Args:
        extractor: ``None`` (inputs are class probabilities or logits), a callable or an
            ``nnx.Module`` returning them.
        splits: number of parts.
        from_logits: the extractor returns logits (a softmax is applied).
        jit: compile an ``nnx.Module`` extractor.

    Raises:
        MetricInputError: ``splits`` is not a positive integer.

    Example:
        >>> import numpy as np
        >>> InceptionScore(splits=2).update(np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]]).compute()
        MeanStd(mean=4.0, std=0.0)

    References:
        Salimans et al. (2016), Improved techniques for training GANs.
    """

    def __init__(self, extractor: Extractor = None, *, splits: int = 10, from_logits: bool = False,
                 jit: bool = True) -> None:
        self.splits, self.from_logits = positive_int(splits, "splits"), bool(from_logits)
        super().__init__(extractor, jit)

    def _options(self) -> tuple[Any, ...]:
        return (self.splits, self.from_logits)

    def reset(self) -> Self:
        self.probs = FeatureBank()
        return self

    def update(self, batch: Any) -> Self:
        """Add the class probabilities of ``batch`` (generated samples). Returns ``self``.

        Raises:
            MetricInputError: outputs that are not probabilities (unless ``from_logits``), or of
                another number of classes than before.
        """
        self.probs = self.probs.add(_to_probs(self.extractor(batch), self.from_logits))
        return self

    def _merge(self, other: Self) -> None:
        self.probs = self.probs.merge(other.probs)

    def compute(self) -> MeanStd:
        """Mean and standard deviation of the score over the splits.

        Raises:
            MetricInputError: fewer samples than splits.
        """
        n = self.probs.count
        if n < self.splits:
            raise MetricInputError(f"InceptionScore needs at least splits={self.splits} samples; it holds {n}.")
        p = self.probs.array()
        scores = [_inception_score(p[i * n // self.splits:(i + 1) * n // self.splits]) for i in range(self.splits)]
        return MeanStd(float(np.mean(scores)), float(np.std(scores)))

    def __repr__(self) -> str:
        return f"InceptionScore(samples={self.probs.count})"


def _sq_dists(a: Array, b: Array) -> Array:
    d = jnp.sum(a * a, axis=1)[:, None] + jnp.sum(b * b, axis=1)[None, :] - 2.0 * (a @ b.T)
    return jnp.maximum(d, 0.0)


@partial(jax.jit, static_argnames=("k",))
def _kth_sq_radius(block: Array, support: Array, k: int) -> Array:
    """Squared distance from each row of ``block`` to its k-th nearest other row of ``support``."""
    return -jax.lax.top_k(-_sq_dists(block, support), k + 1)[0][:, k]


@jax.jit
def _covered(block: Array, support: Array, radius_sq: Array) -> Array:
    """Whether each row of ``block`` lies in at least one ball around a row of ``support``."""
    return jnp.any(_sq_dists(block, support) <= radius_sq[None, :], axis=1)


def _blocked(fn: Callable[..., Array], rows: np.ndarray, block_size: int, *args: Any) -> np.ndarray:
    """``fn(block, *args)`` over row blocks of ``rows`` (the last one zero-padded), concatenated."""
    size = min(block_size, rows.shape[0])
    out = []
    for start in range(0, rows.shape[0], size):
        block = rows[start:start + size]
        pad = size - block.shape[0]
        padded = np.pad(block, ((0, pad), (0, 0))) if pad else block
        out.append(np.asarray(fn(jnp.asarray(padded), *args))[:block.shape[0]])
    return np.concatenate(out)


class PrecisionRecall(_RealGenerated):
    """Improved precision and recall on feature manifolds estimated with k-NN balls.

    Precision is the fraction of generated samples inside at least one real sample's ball (radius:
    the distance to its k-th nearest real neighbour); recall swaps the roles. Distances run in row
    blocks of ``block_size``, so memory is ``block_size * n`` rather than ``n * n``.

    Args:
        extractor: ``None`` (inputs are features), a callable or an ``nnx.Module``.
        k: the neighbour that sets each ball's radius.
        block_size: rows per block of the distance computation.
        jit: compile an ``nnx.Module`` extractor.

    Raises:
        MetricInputError: ``k`` or ``block_size`` is not a positive integer.

    Example:
        >>> import numpy as np
        >>> pr = PrecisionRecall(k=1).update(np.array([[0.0], [1.0], [2.0]]), real=True)
        >>> pr.update(np.array([[0.5], [9.0]]), real=False).compute()
        PrecisionRecallValue(precision=0.5, recall=1.0)

    References:
        Kynkaanniemi et al. (2019), Improved precision and recall metric for assessing
        generative models.
    """

    _empty = FeatureBank

    def __init__(self, extractor: Extractor = None, *, k: int = 3, block_size: int = 1024, jit: bool = True) -> None:
        self.k, self.block_size = positive_int(k, "k"), positive_int(block_size, "block_size")
        super().__init__(extractor, jit)

    def _options(self) -> tuple[Any, ...]:
        return (self.k,)

    def _coverage(self, support: np.ndarray, queries: np.ndarray) -> float:
        radius_sq = jnp.asarray(_blocked(partial(_kth_sq_radius, k=self.k), support, self.block_size,
                                         jnp.asarray(support)))
        inside = _blocked(_covered, queries, self.block_size, jnp.asarray(support), radius_sq)
        return float(inside.mean())

    def compute(self) -> PrecisionRecallValue:
        """Precision and recall of everything seen so far.

        Raises:
            MetricInputError: a side holds k samples or fewer.
        """
        self._need(self.k + 1)
        real, generated = self.real.array(), self.generated.array()
        with jax.enable_x64(True):
            return PrecisionRecallValue(self._coverage(real, generated), self._coverage(generated, real))


R = TypeVar("R", bound=_RealGenerated)


def _one_shot(metric: R, real: Any, generated: Any, batch_size: int | None) -> R:
    for batch in batches(real, batch_size):
        metric.update(batch, real=True)
    for batch in batches(generated, batch_size):
        metric.update(batch, real=False)
    return metric


_register = partial(builtin, domain="generative", tier=Tier.FROZEN, jit_compatible=False)


@_register("fid", Direction.LOWER, Signature.GENERATED_REAL, symmetric=True, non_negative=True,
           class_path="calibrax.metrics.stateful:FrechetInceptionDistance")
def fid(generated: Any, real: Any, *, extractor: Extractor = None, batch_size: int | None = None) -> float:
    """FID of generated and real inputs through a frozen extractor (one pass of FrechetInceptionDistance).

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
        >>> round(fid(x, x + 1.0), 4)
        2.0
    """
    metric = _one_shot(FrechetInceptionDistance(extractor), real, generated, batch_size)
    return metric.compute()


@_register("kernel_inception_distance", Direction.LOWER, Signature.GENERATED_REAL,
           class_path="calibrax.metrics.stateful:KernelInceptionDistance")
def kernel_inception_distance(generated: Any, real: Any, *, extractor: Extractor = None,
                              batch_size: int | None = None, **options: Any) -> float:
    """Mean KID over subsets through a frozen extractor (``options`` as for KernelInceptionDistance).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(30, 3))
        >>> kernel_inception_distance(x, x + 2.0, subsets=3, subset_size=30) > 1.0
        True
    """
    metric = _one_shot(KernelInceptionDistance(extractor, **options), real, generated, batch_size)
    return metric.compute().mean


@_register("split_inception_score", Direction.HIGHER, Signature.SINGLE, non_negative=True,
           class_path="calibrax.metrics.stateful:InceptionScore")
def split_inception_score(generated: Any, *, extractor: Extractor = None, batch_size: int | None = None,
                          **options: Any) -> float:
    """Mean inception score over splits (``options`` as for InceptionScore).

    Example:
        >>> import numpy as np
        >>> round(split_inception_score(np.eye(3)[[0, 1, 2, 0, 1, 2]], splits=2), 6)
        3.0
    """
    metric = InceptionScore(extractor, **options)
    for batch in batches(generated, batch_size):
        metric.update(batch)
    return metric.compute().mean


@_register("improved_precision", Direction.HIGHER, Signature.GENERATED_REAL, non_negative=True,
           class_path="calibrax.metrics.stateful:PrecisionRecall")
def improved_precision(generated: Any, real: Any, *, extractor: Extractor = None, batch_size: int | None = None,
                       k: int = 3) -> float:
    """Fraction of generated samples inside the real k-NN balls (one pass of PrecisionRecall).

    Example:
        >>> import numpy as np
        >>> real, generated = np.array([[0.0], [1.0], [2.0]]), np.array([[0.5], [9.0]])
        >>> improved_precision(generated, real, k=1)
        0.5
    """
    metric = _one_shot(PrecisionRecall(extractor, k=k), real, generated, batch_size)
    return metric.compute().precision


@_register("improved_recall", Direction.HIGHER, Signature.GENERATED_REAL, non_negative=True,
           class_path="calibrax.metrics.stateful:PrecisionRecall")
def improved_recall(generated: Any, real: Any, *, extractor: Extractor = None, batch_size: int | None = None,
                    k: int = 3) -> float:
    """Fraction of real samples inside the generated k-NN balls (one pass of PrecisionRecall).

    Example:
        >>> import numpy as np
        >>> real, generated = np.array([[0.0], [0.5], [9.0]]), np.array([[0.0], [1.0], [2.0]])
        >>> improved_recall(generated, real, k=1)
        0.6666666666666666
    """
    metric = _one_shot(PrecisionRecall(extractor, k=k), real, generated, batch_size)
    return metric.compute().recall
