"""Tier 1: generative-model metrics over a frozen feature extractor, accumulated batch by batch.

Each metric holds an explicit state, fills it with ``update``, reads it with ``compute``,
empties it with ``reset`` and combines it with another instance's state with ``merge`` (two
merged states give the value of one pass over all their data, so shards of an evaluation can run
in separate processes). The extractor is ``None`` (inputs are features already), any callable
``batch -> (n, d) features``, or an ``nnx.Module`` whose weights load from a local file with
:func:`calibrax.metrics.load_weights`; nothing is downloaded.

States are kept in NumPy float64 and ``compute`` runs in float64 (JAX with x64 enabled for the
duration of the call), so long streams do not lose precision.

This module is the metrics' public home and registers their one-shot functions; the classes are
defined by family in private modules: ``_stateful_base`` (the shared state protocol),
``_distribution_distances`` (FID, KID), ``_inception_score`` and ``_precision_recall``.

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

from functools import partial
from typing import Any, TypeVar

from calibrax.core.models import Direction
from calibrax.metrics._distribution_distances import FrechetInceptionDistance, KernelInceptionDistance
from calibrax.metrics._extractor import FrozenExtractor, batches
from calibrax.metrics._inception_score import InceptionScore
from calibrax.metrics._precision_recall import PrecisionRecall, PrecisionRecallValue
from calibrax.metrics._state import FeatureBank, Moments
from calibrax.metrics._stateful_base import Extractor, MeanStd, _RealGenerated
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
