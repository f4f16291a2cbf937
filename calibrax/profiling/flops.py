"""FLOPs, transcendentals, bytes and peak memory of the compiled case, from XLA's analyses.

``compiled.cost_analysis()`` describes the program of one device. The stored ``flops``,
``transcendentals`` and ``bytes_accessed`` are per-call totals over every device the
executable runs on: the per-device figure x ``partitions`` (``num_partitions`` x
``replica_count`` of the compiled HLO, else the size of the shardings' device set); each
measure's meta keeps ``per_device``, ``partitions`` and where that count came from. Replicated
work is counted on every device that does it. ``compiled_peak_memory`` stays per device.

XLA counts a ``while`` loop's body once whatever its trip count (``fori_loop``, ``scan``), so an
executable containing one is flagged ``loops_counted_once`` in each measure's meta. XLA counts
nothing inside custom calls (Pallas, Triton, cuDNN fused attention, LAPACK): an executable with
such a call stores ``flops`` and ``transcendentals`` as unavailable with the targets named, or,
when every such call carries a Pallas ``cost_estimate``, XLA's count plus the estimates
(``source: xla+cost_estimate``). Every measure's meta says ``basis: modelled`` (XLA's static
model of the program) or ``declared``.

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
from calibrax.profiling._hlo import HloFacts, hlo_facts
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["AGREEMENT", "FlopsProfiler", "analytic_flops", "cost_summary", "declare_flops", "executable_devices"]

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


def executable_devices(executable: Any) -> list[Any]:
    """The devices an executable's inputs and outputs live on, by id (empty when it cannot say).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> [d.id for d in executable_devices(jax.jit(jnp.sin).lower(jnp.ones(4)).compile())]
        [0]
    """
    import jax

    found: dict[int, Any] = {}
    for attr in ("input_shardings", "output_shardings"):
        try:
            shardings = getattr(executable, attr)
        except Exception:  # an executable without sharding information
            continue
        for sharding in jax.tree.leaves(shardings):
            for device in getattr(sharding, "device_set", ()) or ():
                found[int(device.id)] = device
    return [found[k] for k in sorted(found)]


def _hlo_text(executable: Any) -> str | None:
    try:
        return str(executable.as_text() or "")
    except Exception:  # some backends cannot print their executable
        return None


def _partitions(facts: HloFacts | None, devices: list[Any]) -> tuple[int, str]:
    if facts is not None:
        return facts.partitions * facts.replicas, (
            f"compiled HLO: num_partitions={facts.partitions} x replica_count={facts.replicas}")
    if devices:
        return len(devices), "the device set of the executable's input and output shardings"
    return 1, "unknown (no HLO text and no shardings): assumed one device"


def cost_summary(executable: Any) -> dict[str, Any]:
    """XLA's per-call cost and memory figures of a compiled executable, as plain numbers.

    Returns a dict with any of ``flops``, ``transcendentals``, ``bytes_accessed`` (totals over
    the ``partitions`` devices that run the program), the same per device (``flops_per_device``,
    ...), ``compiled_peak_memory`` and the memory breakdown per device (``argument_bytes``,
    ``output_bytes``, ``temp_bytes``, ``alias_bytes``, ``generated_code_bytes``), plus
    ``partitions``, ``partitions_source``, ``devices`` (ids), ``loops_counted_once``,
    ``custom_calls`` (target -> count), ``uncounted_custom_calls`` and ``cost_estimates``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> x = jnp.ones((8, 8))
        >>> cost_summary(jax.jit(jnp.matmul).lower(x, x).compile())["flops"]
        1024.0
    """
    out: dict[str, Any] = {}
    text = _hlo_text(executable)
    facts = hlo_facts(text) if text else None
    devices = executable_devices(executable)
    partitions, how = _partitions(facts, devices)
    out.update(partitions=partitions, partitions_source=how, devices=[int(d.id) for d in devices])
    cost = executable.cost_analysis()
    if isinstance(cost, (list, tuple)):  # older jaxlib: one dict per program
        cost = cost[0] if cost else None
    out["cost_analysis"] = bool(cost)
    if cost:
        for key, name in (("flops", "flops"), ("transcendentals", "transcendentals"), ("bytes accessed", "bytes_accessed")):
            if key in cost and cost[key] is not None and float(cost[key]) >= 0:
                out[f"{name}_per_device"] = float(cost[key])
                out[name] = float(cost[key]) * partitions
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
    out["loops_counted_once"] = bool(_WHILE.search(text)) if text is not None else None
    if facts is not None:
        out.update(custom_calls=dict(facts.custom_calls), uncounted_custom_calls=list(facts.uncounted),
                   cost_estimates=[dict(e) for e in facts.cost_estimates])
    return out


@register_profiler
class FlopsProfiler(BaseProfiler):
    """``flops``, ``transcendentals``, ``bytes_accessed`` (per call, all devices) and
    ``compiled_peak_memory`` (per device)."""

    name = "flops"
    produces = ("flops", "transcendentals", "bytes_accessed", "compiled_peak_memory")
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
            flops = MeasureResult(measure_for("flops"), (declared,),
                                  meta={"source": "declared", "basis": "declared", "xla_flops": None})
            return ProfileOutput({"flops": flops}, {m: reason for m in self._MEASURES[1:]})
        cost = self._cost
        loops = cost.get("loops_counted_once")
        base_meta: dict[str, Any] = {"source": "xla", "basis": "modelled", "loops_counted_once": loops,
                                     "partitions": cost.get("partitions"), "partitions_source": cost.get("partitions_source")}
        if loops:
            base_meta["note"] = "a loop body is counted once by XLA, whatever its trip count"
        found: dict[str, MeasureResult] = {}
        unavailable = _custom_call_gaps(cost, found, base_meta)
        for name in self._MEASURES:
            if name in found or name in unavailable:
                continue
            meta = dict(base_meta)
            if name != "compiled_peak_memory":
                meta["per_device"] = cost.get(f"{name}_per_device", 0.0)
            else:
                meta.update(per="device", partitions=None)
            if name in cost:
                found[name] = MeasureResult(measure_for(name), (cost[name],), meta=meta)
            elif name in ("flops", "transcendentals") and cost.get("cost_analysis", True):  # XLA omits a zero count
                found[name] = MeasureResult(measure_for(name), (0.0,), meta={**meta, "note": "none reported by XLA"})
            elif not cost.get("cost_analysis", True):
                unavailable[name] = "XLA returned no cost analysis for this executable (this backend has none)"
            else:
                unavailable[name] = "XLA's analysis of this executable did not report it"
        if declared is not None:
            xla = cost.get("flops") if not cost.get("uncounted_custom_calls") else None
            found["flops"] = MeasureResult(measure_for("flops"), (declared,), meta=_declared_meta(declared, xla, loops))
            unavailable.pop("flops", None)
        meta = {k: v for k, v in cost.items() if k not in self._MEASURES}
        return ProfileOutput(found, unavailable, meta)


def _custom_call_gaps(cost: Mapping[str, Any], found: dict[str, MeasureResult],
                      base_meta: dict[str, Any]) -> dict[str, str]:
    """``flops``/``transcendentals`` of an executable whose custom calls XLA cannot count:
    XLA's count plus the Pallas cost estimates when every such call has one, else unavailable."""
    uncounted = list(cost.get("uncounted_custom_calls") or ())
    if not uncounted:
        return {}
    estimates = list(cost.get("cost_estimates") or ())
    base_meta["uncounted_custom_calls"] = uncounted
    if estimates and len(estimates) >= sum(int(cost.get("custom_calls", {}).get(t, 1)) for t in uncounted):
        partitions = int(cost.get("partitions") or 1)
        for name in ("flops", "transcendentals"):
            extra = sum(e.get(name, 0.0) for e in estimates)
            per_device = cost.get(f"{name}_per_device", 0.0) + extra
            found[name] = MeasureResult(measure_for(name), (per_device * partitions,), meta={
                **base_meta, "source": "xla+cost_estimate", "per_device": per_device, "cost_estimate": extra,
                "note": "XLA's count plus the cost_estimate the custom kernels declare"})
        return {}
    reason = (f"the executable calls custom kernels whose arithmetic XLA does not count ({', '.join(uncounted)}); "
              "give the kernel a cost_estimate (pallas_call(cost_estimate=...)) or declare the count with "
              "@calibrax.declare_flops")
    return {"flops": reason, "transcendentals": reason}


def _declared_meta(declared: float, xla: float | None, loops: bool | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": "declared", "basis": "declared", "xla_flops": xla, "loops_counted_once": loops}
    if xla is not None:
        ratio = xla / declared if declared else (1.0 if xla == 0 else math.inf)
        meta["xla_ratio"] = ratio
        meta["agrees_with_xla"] = abs(ratio - 1.0) <= AGREEMENT
    return meta
