"""Extension-point protocols: what a benchmark factory and an exporter must provide.

Plugins implement these; calibrax checks them structurally (``isinstance`` works on the
runtime-checkable ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from calibrax.core.adapters import Workload
    from calibrax.core.result import RunRecord

__all__ = ["BenchmarkFactory", "Exporter"]


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


@runtime_checkable
class Exporter(Protocol):
    """Renders a run record as the text of one file.

    Attributes:
        name: the registry name, used in configs and ``calibrax report --format``.
        filename: the file written into the output folder by :func:`export_all`.

    Example:
        >>> class Plain:
        ...     name = "plain"
        ...     filename = "run.txt"
        ...     def render(self, record, settings):
        ...         return record.run.id
        >>> isinstance(Plain(), Exporter)
        True
    """

    name: str
    filename: str

    def render(self, record: RunRecord, settings: Mapping[str, Any]) -> str:
        """Return the file's text for ``record``.

        Args:
            record: the run and its cases (and verdicts, when a check was made).
            settings: this exporter's options from the config, e.g. ``template_dir``.
        """
        ...
