"""The ``@calibrax.benchmark`` decorator and the benchmark registry."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calibrax.core.adapters import as_workload
from calibrax.core.errors import BenchmarkError
from calibrax.core.registry import Registry
from calibrax.core.workload import Workload

__all__ = ["BENCHMARKS", "BenchmarkSpec", "benchmark", "expand_grid"]


@dataclass(frozen=True)
class BenchmarkSpec:
    """A registered benchmark: a factory and its default params grid.

    Attributes:
        name: the registry name, used in configs and the store.
        factory: called with one grid point as keyword arguments; returns a Workload.
        params: param name -> list of values (the default grid; YAML config overrides it).
        description: one line for ``calibrax benchmarks list``.
    """

    name: str
    factory: Callable[..., Any]
    params: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    description: str = ""

    @property
    def definition_key(self) -> str:
        """Where the factory is defined; the same definition may be imported twice."""
        f = self.factory
        return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', '?')}"

    def setup(self, **params: Any) -> Workload:
        """Call the factory for one grid point and return its Workload.

        Raises:
            BenchmarkError: a param the factory does not take, or a bad return value.
        """
        self.check_params(params)
        return as_workload(self.factory(**params), benchmark=self.name)

    def accepted_params(self) -> list[str] | None:
        """The keyword names the factory takes; None when it takes ``**kwargs``."""
        sig = inspect.signature(self.factory)
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return None
        return [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Raise BenchmarkError unless the factory accepts exactly these keyword params."""
        try:
            inspect.signature(self.factory).bind(**params)
        except TypeError as exc:
            raise BenchmarkError(
                f"Benchmark {self.name!r} cannot be called with params {dict(params)}: {exc}. "
                f"Its factory takes: {', '.join(self.accepted_params() or ['**kwargs'])}."
            ) from None


BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark", "calibrax.benchmarks")
"""Every benchmark known to this process, entry-point plugins included."""


def benchmark(
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    description: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a benchmark factory under ``name`` with a default ``params`` grid.

    A scalar param value is a one-point grid. The factory keeps working as a plain function.

    Example:
        >>> import calibrax, jax, jax.numpy as jnp
        >>> @calibrax.benchmark("doc_scale", params={"n": [8, 16]})
        ... def scale(n):
        ...     return calibrax.Workload(jax.jit(lambda x: 2 * x), args=(jnp.ones(n),))
        >>> calibrax.core.BENCHMARKS.get("doc_scale").params["n"]
        (8, 16)
    """

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        bench_name = name or factory.__name__
        grid = {k: _as_grid(v) for k, v in (params or {}).items()}
        doc = description or (factory.__doc__ or "").strip().split("\n")[0]
        BENCHMARKS.register(bench_name, BenchmarkSpec(bench_name, factory, grid, doc))
        return factory

    return decorate


def _as_grid(value: Any) -> tuple[Any, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes, Mapping)):
        return tuple(value)
    return (value,)


def expand_grid(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return every point of a params grid, in order (the last param varies fastest).

    Scalars are one-point axes; an empty grid has one point with no params.

    Example:
        >>> expand_grid({"n": [1, 2], "dtype": "f32"})
        [{'n': 1, 'dtype': 'f32'}, {'n': 2, 'dtype': 'f32'}]
    """
    names = list(params)
    axes: list[Sequence[Any]] = [_as_grid(params[k]) for k in names]
    for name, axis in zip(names, axes, strict=False):
        if len(axis) == 0:
            raise BenchmarkError(f"Param {name!r} has an empty list of values; give at least one.")
    return [dict(zip(names, point, strict=False)) for point in itertools.product(*axes)]
