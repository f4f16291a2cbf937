"""FLOPs, transcendentals, bytes and peak memory of the compiled case, from XLA's analyses.

``compiled.cost_analysis()`` gives per-call ``flops``, ``transcendentals`` and ``bytes
accessed``; ``compiled.memory_analysis()`` gives the static peak estimate. XLA counts a
``while`` loop's body once whatever its trip count (``fori_loop``, ``scan``), so an executable
containing one is flagged ``loops_counted_once`` in each measure's meta.

A benchmark may declare its own FLOP count with :func:`declare_flops`; the declared number is
stored as ``flops`` (``source: declared``) and XLA's count is kept beside it with their ratio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from calibrax.core.errors import BenchmarkError
from calibrax.core.models import MeasureResult, measure_for
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["AGREEMENT", "FlopsProfiler", "analytic_flops", "cost_summary", "declare_flops"]

F = TypeVar("F", bound=Callable[..., Any])
AGREEMENT = 0.05
"""A declared count within this relative distance of XLA's is ``agrees_with_xla: true``."""
_ATTR = "calibrax_flops"
_WHILE = re.compile(r"\swhile\(")


def declare_flops(count: float | Callable[..., float]) -> Callable[[F], F]:
    """Declare a benchmark factory's FLOPs per call: a number, or a function of its params.

    The function receives the case's params as keyword arguments. Decorate the factory
    (above or below ``@calibrax.benchmark``, it is the same function object).

    Example:
        >>> @declare_flops(lambda n, **_: 2 * n**3)
        ... def matmul(n, dtype="float32"):
        ...     ...
        >>> analytic_flops(matmul, {"n": 4})
        128.0
    """

    def decorate(factory: F) -> F:
        setattr(factory, _ATTR, count)
        return factory

    return decorate


def analytic_flops(factory: Any, params: Mapping[str, Any]) -> float | None:
    """The FLOPs per call a factory declares for ``params``, or None when it declares none.

    Raises:
        BenchmarkError: the declared count cannot be computed or is not a finite number >= 0.
    """
    count = getattr(factory, _ATTR, None)
    if count is None:
        return None
    try:
        value = float(count(**params) if callable(count) else count)
    except Exception as exc:
        raise BenchmarkError(f"The declared FLOP count could not be computed for params {dict(params)}: {exc}") from None
    if not (math.isfinite(value) and value >= 0):
        raise BenchmarkError(f"The declared FLOP count must be a finite number >= 0, got {value!r}.")
    return value


def cost_summary(executable: Any) -> dict[str, Any]:
    """XLA's per-call cost and memory figures of a compiled executable, as plain numbers.

    Returns a dict with any of ``flops``, ``transcendentals``, ``bytes_accessed``,
    ``compiled_peak_memory`` and the memory breakdown (``argument_bytes``, ``output_bytes``,
    ``temp_bytes``, ``alias_bytes``, ``generated_code_bytes``), plus ``loops_counted_once``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.ones((8, 8))
        >>> cost_summary(jax.jit(jnp.matmul).lower(x, x).compile())["flops"]
        1024.0
    """
    out: dict[str, Any] = {}
    cost = executable.cost_analysis()
    if isinstance(cost, (list, tuple)):  # older jaxlib: one dict per program
        cost = cost[0] if cost else None
    if cost:
        for key, name in (("flops", "flops"), ("transcendentals", "transcendentals"), ("bytes accessed", "bytes_accessed")):
            if key in cost and cost[key] is not None and float(cost[key]) >= 0:
                out[name] = float(cost[key])
    memory = executable.memory_analysis()
    if memory is not None:
        peak = getattr(memory, "peak_memory_in_bytes", None)
        if peak is not None:
            out["compiled_peak_memory"] = float(peak)
        for attr, name in (("argument_size_in_bytes", "argument_bytes"), ("output_size_in_bytes", "output_bytes"),
                           ("temp_size_in_bytes", "temp_bytes"), ("alias_size_in_bytes", "alias_bytes"),
                           ("generated_code_size_in_bytes", "generated_code_bytes")):
            if getattr(memory, attr, None) is not None:
                out[name] = int(getattr(memory, attr))
    try:
        out["loops_counted_once"] = bool(_WHILE.search(executable.as_text() or ""))
    except Exception:  # some backends cannot print their executable
        out["loops_counted_once"] = None
    return out


@register_profiler
class FlopsProfiler(BaseProfiler):
    """``flops``, ``transcendentals``, ``bytes_accessed`` (per call) and ``compiled_peak_memory``."""

    name = "flops"
    _MEASURES = ("flops", "transcendentals", "bytes_accessed", "compiled_peak_memory")

    _cost: dict[str, Any] | None = None

    def compiled(self, executable: Any) -> None:
        self._cost = cost_summary(executable)

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        declared = self.context.analytic_flops
        if self._cost is None:
            reason = "the workload is not a jitted function, so XLA has no cost analysis of it"
            if declared is None:
                return ProfileOutput(unavailable={m: reason for m in self._MEASURES})
            flops = MeasureResult(measure_for("flops"), (declared,), meta={"source": "declared", "xla_flops": None})
            return ProfileOutput({"flops": flops}, {m: reason for m in self._MEASURES[1:]})
        cost = self._cost
        loops = cost.get("loops_counted_once")
        base_meta = {"source": "xla", "loops_counted_once": loops}
        if loops:
            base_meta["note"] = "a loop body is counted once by XLA, whatever its trip count"
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        for name in self._MEASURES:
            if name in cost:
                found[name] = MeasureResult(measure_for(name), (cost[name],), meta=dict(base_meta))
            elif name in ("flops", "transcendentals"):  # XLA omits a count that is zero
                found[name] = MeasureResult(measure_for(name), (0.0,), meta={**base_meta, "note": "none reported by XLA"})
            else:
                unavailable[name] = "XLA's analysis of this executable did not report it"
        if declared is not None:
            found["flops"] = MeasureResult(measure_for("flops"), (declared,), meta=_declared_meta(declared, cost.get("flops"), loops))
        meta = {k: v for k, v in cost.items() if k not in self._MEASURES}
        return ProfileOutput(found, unavailable, meta)


def _declared_meta(declared: float, xla: float | None, loops: bool | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": "declared", "xla_flops": xla, "loops_counted_once": loops}
    if xla is not None:
        ratio = xla / declared if declared else (1.0 if xla == 0 else math.inf)
        meta["xla_ratio"] = ratio
        meta["agrees_with_xla"] = abs(ratio - 1.0) <= AGREEMENT
    return meta
