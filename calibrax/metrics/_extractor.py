"""A frozen feature extractor: any callable, or an ``nnx.Module`` run in evaluation mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np

from calibrax.metrics.errors import MetricInputError

__all__ = ["FrozenExtractor", "batches"]


def _identity(x: Any) -> Any:
    return x


class FrozenExtractor:
    """Turns a batch of inputs into one float feature vector per input, with frozen weights.

    ``None`` means the inputs are already features. An ``nnx.Module`` is copied, put in
    evaluation mode (dropout off, batch statistics used, not updated), split once into its graph
    and its weights, and run under ``jax.jit``; later changes to the original module do not
    reach the copy. Any other callable is called as is (jit it yourself if it is JAX code).

    Args:
        extractor: ``None``, an ``nnx.Module`` or a callable ``batch -> features``.
        jit: compile an ``nnx.Module`` with ``jax.jit`` (ignored for plain callables).

    Raises:
        MetricInputError: ``extractor`` is neither ``None`` nor callable.

    Example:
        >>> import numpy as np
        >>> FrozenExtractor(lambda x: x[:, :2] * 2.0)(np.ones((3, 4))).shape
        (3, 2)
    """

    def __init__(self, extractor: Callable[[Any], Any] | None = None, *, jit: bool = True) -> None:
        from flax import nnx

        self.source = extractor
        if extractor is None:
            self._fn: Callable[[Any], Any] = _identity
        elif isinstance(extractor, nnx.Module):
            frozen = nnx.clone(extractor)
            frozen.eval()
            graphdef, weights = nnx.split(frozen)

            def apply(state: Any, batch: Any) -> Any:
                return nnx.merge(graphdef, state)(batch)

            compiled = jax.jit(apply) if jit else apply
            self._fn = lambda batch: compiled(weights, batch)
        elif callable(extractor):
            self._fn = extractor
        else:
            raise MetricInputError(
                f"extractor must be None, a callable batch -> features or a flax.nnx.Module; got "
                f"{type(extractor).__name__}."
            )

    def __call__(self, batch: Any) -> np.ndarray:
        """Features of ``batch`` as a NumPy array ``(n, d)`` (trailing axes are flattened).

        Raises:
            MetricInputError: the extractor returned fewer than 2 axes, a non-numeric array,
                or non-finite values.
        """
        out = np.asarray(self._fn(batch))
        if out.ndim < 2:
            raise MetricInputError(
                f"The feature extractor must return one feature vector per input, shape (n, d); got "
                f"shape {out.shape}. Add a batch axis to the inputs or reshape the extractor's output."
            )
        if not (np.issubdtype(out.dtype, np.floating) or np.issubdtype(out.dtype, np.integer)):
            raise MetricInputError(f"The feature extractor returned dtype {out.dtype}; features must be numbers.")
        out = out.reshape(out.shape[0], -1)
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise MetricInputError(
                f"The feature extractor returned non-finite values (NaN or inf) for {int(bad.sum())} of "
                f"{out.shape[0]} inputs; check the inputs' range and the extractor's weights."
            )
        return out


def batches(x: Any, batch_size: int | None) -> Iterator[Any]:
    """Consecutive slices of ``x`` along its first axis, ``batch_size`` rows each (all if None).

    Raises:
        MetricInputError: ``batch_size`` is not a positive integer.
    """
    if batch_size is None:
        yield x
        return
    if not isinstance(batch_size, int) or batch_size < 1:
        raise MetricInputError(f"batch_size must be a positive integer or None; got {batch_size!r}.")
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size]
