"""FID and KID: distances between the distributions of real and generated features, accumulated
batch by batch (see :mod:`calibrax.metrics.stateful`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from calibrax.metrics._state import FeatureBank, Moments, positive_int
from calibrax.metrics._stateful_base import Extractor, MeanStd, _RealGenerated
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional.generative import frechet_from_moments

__all__ = ["FrechetInceptionDistance", "KernelInceptionDistance"]


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
