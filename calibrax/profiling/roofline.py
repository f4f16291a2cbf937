"""The roofline of a case: achieved FLOP/s, arithmetic intensity, the bound and the efficiency.

intensity = flops / bytes accessed; attainable = min(peak, intensity x bandwidth); ridge =
peak / bandwidth; efficiency = achieved / attainable (Williams, Waterman and Patterson,
"Roofline", CACM 52(4), 2009). The peaks come from the hardware config or from
``calibrax hardware --calibrate``; without them the efficiency is recorded as unavailable
with what to do, never computed against a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from calibrax.core.models import MeasureResult, measure_for
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["Roofline", "RooflineProfiler", "roofline"]

_NO_PEAKS = (
    "the hardware target declares no peak FLOP/s and bandwidth and none were calibrated on this machine; "
    "pick a named target (hardware=h100_sxm), set hardware.peak_flops and hardware.bandwidth, "
    "or run `calibrax hardware --calibrate` once"
)


@dataclass(frozen=True)
class Roofline:
    """Where a kernel sits under the roofline of a machine.

    Attributes:
        intensity: FLOPs per byte accessed.
        attainable: the best FLOP/s the roofline allows at that intensity.
        ridge: the intensity where the memory and compute roofs meet (FLOP/byte).
        bound: ``memory`` left of the ridge, ``compute`` at or right of it.
    """

    intensity: float
    attainable: float
    ridge: float
    bound: Literal["memory", "compute"]


def roofline(flops: float, bytes_accessed: float, peak_flops: float, bandwidth: float) -> Roofline:
    """The roofline point of a kernel doing ``flops`` over ``bytes_accessed``.

    Example:
        >>> r = roofline(flops=2e9, bytes_accessed=1e9, peak_flops=100e9, bandwidth=10e9)
        >>> r.intensity, r.attainable, r.ridge, r.bound
        (2.0, 20000000000.0, 10.0, 'memory')

    References:
        Williams, Waterman and Patterson, "Roofline: an insightful visual performance model for
        multicore architectures", CACM 52(4), 2009.
    """
    if bytes_accessed <= 0 or peak_flops <= 0 or bandwidth <= 0:
        raise ValueError("bytes_accessed, peak_flops and bandwidth must be positive.")
    intensity = flops / bytes_accessed
    ridge = peak_flops / bandwidth
    attainable = min(peak_flops, intensity * bandwidth)
    return Roofline(intensity, attainable, ridge, "memory" if intensity < ridge else "compute")


@register_profiler
class RooflineProfiler(BaseProfiler):
    """``achieved_flops`` (per round), ``arithmetic_intensity`` and ``roofline_efficiency``."""

    name = "roofline"
    needs = ("flops",)

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        flops, nbytes, t = measures.get("flops"), measures.get("bytes_accessed"), measures.get("time")
        names = ("achieved_flops", "arithmetic_intensity", "roofline_efficiency")
        if flops is None or not flops.samples:
            return ProfileOutput(unavailable={n: "no flops count for this case (see the flops profiler)" for n in names})
        f = flops.samples[0]
        found: dict[str, MeasureResult] = {}
        unavailable: dict[str, str] = {}
        meta: dict[str, object] = {"flops_source": flops.meta.get("source")}
        if flops.meta.get("loops_counted_once"):
            meta["note"] = "XLA counted a loop body once: achieved FLOP/s understate the real rate"
        achieved = tuple(f / s for s in (t.samples if t else ()) if s > 0)
        if achieved:
            found["achieved_flops"] = MeasureResult(measure_for("achieved_flops"), achieved, meta=dict(meta))
        else:
            unavailable["achieved_flops"] = "no time samples"
        b = nbytes.samples[0] if nbytes is not None and nbytes.samples else None
        if not b:
            unavailable["arithmetic_intensity"] = "XLA reported no bytes accessed"
            unavailable["roofline_efficiency"] = "no arithmetic intensity"
            return ProfileOutput(found, unavailable, meta)
        found["arithmetic_intensity"] = MeasureResult(measure_for("arithmetic_intensity"), (f / b,))
        opts = self.context.options
        if not opts.peak_flops or not opts.bandwidth:
            unavailable["roofline_efficiency"] = _NO_PEAKS
            return ProfileOutput(found, unavailable, meta)
        r = roofline(f, b, opts.peak_flops, opts.bandwidth)
        meta.update(peak_flops=opts.peak_flops, bandwidth=opts.bandwidth, peak_source=opts.peak_source,
                    attainable_flops=r.attainable, ridge=r.ridge, bound=r.bound)
        if achieved:
            found["roofline_efficiency"] = MeasureResult(
                measure_for("roofline_efficiency"), tuple(a / r.attainable for a in achieved), meta=dict(meta))
        else:
            unavailable["roofline_efficiency"] = "no time samples"
        return ProfileOutput(found, unavailable, meta)
