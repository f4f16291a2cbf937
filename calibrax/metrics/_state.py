"""The states that Tier 1 metrics accumulate: streaming moments and banks of features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calibrax.metrics.errors import MetricInputError

__all__ = ["FeatureBank", "Moments", "check_width", "positive_int"]


def check_width(d_state: int | None, features: np.ndarray) -> None:
    if d_state is not None and features.shape[1] != d_state:
        raise MetricInputError(
            f"Features have {features.shape[1]} values per input but the state holds {d_state}; every "
            "batch (and every merged state) must come from the same extractor."
        )


@dataclass(frozen=True)
class Moments:
    """Streaming sufficient statistics of a feature set: count, sum and sum of outer products."""

    count: int = 0
    total: np.ndarray | None = None  # (d,) float64: sum of the feature vectors
    outer: np.ndarray | None = None  # (d, d) float64: sum of x x^T over the feature vectors

    @property
    def dim(self) -> int | None:
        """Feature size, or None while empty."""
        return None if self.total is None else int(self.total.shape[0])

    def add(self, features: np.ndarray) -> Moments:
        """The statistics with the rows of ``features`` (n, d) added."""
        check_width(self.dim, features)
        f = np.asarray(features, np.float64)
        total, outer = f.sum(axis=0), f.T @ f
        if self.total is not None and self.outer is not None:
            total, outer = self.total + total, self.outer + outer
        return Moments(self.count + f.shape[0], total, outer)

    def merge(self, other: Moments) -> Moments:
        """The statistics of both feature sets together."""
        if other.total is None or other.outer is None:
            return self
        if self.total is None or self.outer is None:
            return other
        check_width(self.dim, other.total[None, :])
        return Moments(self.count + other.count, self.total + other.total, self.outer + other.outer)

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and unbiased covariance (needs at least 2 samples)."""
        if self.total is None or self.outer is None or self.count < 2:
            raise MetricInputError(f"A covariance needs at least 2 samples; got {self.count}.")
        mu = self.total / self.count
        cov = (self.outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return mu, 0.5 * (cov + cov.T)


@dataclass(frozen=True)
class FeatureBank:
    """Every feature vector seen so far, in arrival order."""

    chunks: tuple[np.ndarray, ...] = ()

    @property
    def count(self) -> int:
        """Number of feature vectors held."""
        return sum(c.shape[0] for c in self.chunks)

    @property
    def dim(self) -> int | None:
        """Feature size, or None while empty."""
        return int(self.chunks[0].shape[1]) if self.chunks else None

    def add(self, features: np.ndarray) -> FeatureBank:
        """The bank with ``features`` (n, d) appended."""
        check_width(self.dim, features)
        return FeatureBank((*self.chunks, np.array(features)))

    def merge(self, other: FeatureBank) -> FeatureBank:
        """Both banks, this one's features first."""
        if other.chunks:
            check_width(self.dim, other.chunks[0])
        return FeatureBank(self.chunks + other.chunks)

    def array(self) -> np.ndarray:
        """All features as one float64 array (n, d)."""
        return np.concatenate(self.chunks).astype(np.float64)


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise MetricInputError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)
