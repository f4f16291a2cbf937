"""The inception score over splits, accumulated batch by batch (see :mod:`calibrax.metrics.stateful`)."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.special import xlogy

from calibrax.metrics._state import FeatureBank, positive_int
from calibrax.metrics._stateful_base import Extractor, MeanStd, _Stateful
from calibrax.metrics.errors import MetricInputError

__all__ = ["InceptionScore"]


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
