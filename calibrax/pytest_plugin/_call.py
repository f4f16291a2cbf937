"""The call the ``calibrax`` fixture is given, as a Workload; and the one plain call made while
the plugin is off. JAX-free: only :mod:`calibrax.core` is imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from calibrax.core.errors import ConfigError
from calibrax.core.workload import Workload

__all__ = ["untimed", "workload_of"]


def workload_of(fn: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Workload:
    """The Workload to time: ``fn`` itself when it is one, else ``fn`` with these arguments.

    Raises:
        ConfigError: ``fn`` is not callable, or a Workload was given arguments too.

    Example:
        >>> workload_of(pow, (2, 10), {}).call()
        1024
    """
    if isinstance(fn, Workload):
        if args or kwargs:
            raise ConfigError("calibrax(workload) takes a Workload alone: its arguments are in "
                              "Workload(fn, args=..., kwargs=...), not in the fixture call.")
        return fn
    if not callable(fn):
        raise ConfigError(f"calibrax(fn, *args, **kwargs) needs a callable or a calibrax.Workload first, "
                          f"got {type(fn).__name__}: {fn!r}.")
    return Workload(fn, args=tuple(args), kwargs=dict(kwargs))


def untimed(fn: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    """The call the fixture makes when the plugin is off: ``fn`` once, its result returned.

    Example:
        >>> untimed(pow, (2, 3), {})
        8
    """
    return workload_of(fn, args, kwargs).call()
