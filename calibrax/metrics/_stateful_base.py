"""The base of the Tier 1 stateful metrics: update/compute/reset/merge over an explicit state
with a frozen extractor in front, the real-versus-generated form most of them share, and the
mean-and-spread result of a score over subsets or splits.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, NamedTuple, Self

import numpy as np

from calibrax.metrics._extractor import FrozenExtractor
from calibrax.metrics.errors import MetricInputError

__all__ = ["Extractor", "MeanStd"]

Extractor = Callable[[Any], Any] | None


class MeanStd(NamedTuple):
    """A score over subsets or splits: its mean and its (population) standard deviation."""

    mean: float
    std: float


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
