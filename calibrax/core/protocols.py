"""The benchmark factory protocol: what ``@calibrax.benchmark`` registers.

The other extension points keep their protocols beside their registries, in the layer that
uses them: profilers in :mod:`calibrax.profiling`, exporters in :mod:`calibrax.exporters`
(each with a conformance suite in :mod:`calibrax.testing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from calibrax.core.workload import Workload

__all__ = ["BenchmarkFactory"]


class BenchmarkFactory(Protocol):
    """Called with one point of a params grid as keyword arguments; returns what is timed.

    The return value is a :class:`~calibrax.core.Workload` or a zero-argument callable.

    Example:
        >>> from calibrax.core import Workload
        >>> def factory(n: int) -> Workload:
        ...     return Workload(sum, args=(range(n),))
        >>> factory(n=4).call()
        6
    """

    def __call__(self, **params: Any) -> Workload | Any:
        """Build the workload for one grid point."""
        ...
