"""The roofline of a case: achieved FLOP/s, arithmetic intensity, the bound and the efficiency.

intensity = flops / bytes accessed; attainable = min(peak, intensity x bandwidth); ridge =
peak / bandwidth; efficiency = achieved / attainable (Williams, Waterman and Patterson,
"Roofline", CACM 52(4), 2009). The peaks come from the hardware config or from
``calibrax hardware --calibrate``; without them the efficiency is recorded as unavailable
with what to do, never computed against a guess.

Peaks depend on the dtype the work runs in, so the compute roof is picked from the compiled
HLO (:func:`pick_peak`): the element type of its dots and convolutions (a bf16 dot is judged
against the bf16 peak, an f32 one against fp32, or tf32 when the target declares it and the dot
runs at default precision, as XLA:GPU may then use TF32). Dots in several dtypes get the
FLOP-weighted roof ``sum(f) / sum(f_d / peak_d)`` (the best time of the mix, each at its own
peak). An executable with no dot or convolution is judged against the vector roof: the
``fp32`` peak (``fp64`` for f64 outputs). A dtype the target declares no peak for, or no HLO
to read, leaves the efficiency unavailable with the reason. The old single ``peak_flops``
(kept as ``{"any": peak}``) is used for every dtype, and the stored ``peak_source`` says so.
The meta records ``peak_dtype``, ``peak_rule`` and the ``dot_flops_by_dtype`` it saw.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from calibrax.core.models import MeasureResult, measure_for
from calibrax.profiling._hlo import HloFacts, hlo_facts
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["PeakChoice", "Roofline", "RooflineProfiler", "pick_peak", "roofline"]

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


@dataclass(frozen=True)
class PeakChoice:
    """The compute roof picked for one executable.

    Attributes:
        peak: FLOP/s, or None when no honest choice exists.
        dtype: the peak key used (``bf16``, ``fp32``, ``mixed``, ``any``), or None.
        rule: how it was chosen, or why none could be.
        mix: peak key -> share of the dot/convolution FLOPs, for a mixed choice.
    """

    peak: float | None
    dtype: str | None
    rule: str
    mix: Mapping[str, float] | None = None


def _missing(key: str) -> str:
    return (f"the hardware target declares no {key} peak; add it (hardware.peak_flops: {{{key}: ...}}) "
            "or run `calibrax hardware --calibrate`")


def _dot_keys(facts: HloFacts, peaks: Mapping[str, float]) -> dict[str, float]:
    """Dot/conv FLOPs by the peak key that applies (f32 at default precision -> tf32 where declared)."""
    work = dict(facts.compute)
    tf32_off = os.environ.get("NVIDIA_TF32_OVERRIDE") == "0"
    if facts.tf32_eligible and "tf32" in peaks and not tf32_off:
        work["fp32"] = work.get("fp32", 0.0) - facts.tf32_eligible
        work["tf32"] = work.get("tf32", 0.0) + facts.tf32_eligible
        if work["fp32"] <= 0:
            del work["fp32"]
    return work


def pick_peak(peaks: Mapping[str, float] | None, facts: HloFacts | None) -> PeakChoice:
    """The peak FLOP/s to judge an executable against (see the module docstring).

    Example:
        >>> facts = HloFacts(compute={"bf16": 1e9})
        >>> pick_peak({"bf16": 989e12, "fp32": 67e12}, facts).dtype
        'bf16'
        >>> pick_peak({"fp32": 67e12}, facts).peak is None
        True
    """
    peaks = dict(peaks or {})
    if not peaks:
        return PeakChoice(None, None, _NO_PEAKS)
    if "any" in peaks:
        return PeakChoice(peaks["any"], "any", "one peak_flops for every dtype (the target gives no per-dtype peaks)")
    if facts is None:
        return PeakChoice(None, None, "the workload is not a jitted function (or its HLO could not be read), so the "
                                      "dtype of its work is unknown; give one peak_flops number to use for every dtype")
    if facts.unknown_compute:
        return PeakChoice(None, None, f"dots or convolutions in {', '.join(facts.unknown_compute)}, "
                                      "for which no peak key exists")
    work = _dot_keys(facts, peaks)
    if not work:
        key = "fp64" if "fp64" in facts.output_dtypes else "fp32"
        if key not in peaks:
            return PeakChoice(None, None, f"no dot or convolution: the vector roof is the {key} peak, but {_missing(key)}")
        return PeakChoice(peaks[key], key, f"no dot or convolution: the vector ({key}) roof")
    lacking = [k for k in sorted(work) if k not in peaks]
    if lacking:
        return PeakChoice(None, None, f"dots or convolutions run in {', '.join(lacking)}: {_missing(lacking[0])}")
    if len(work) == 1:
        key = next(iter(work))
        rule = "the dtype of the dots and convolutions"
        if key == "tf32":
            rule = "f32 dots at default precision, which XLA:GPU runs as TF32 (NVIDIA_TF32_OVERRIDE=0 or precision=highest: fp32)"
        return PeakChoice(peaks[key], key, rule)
    total = sum(work.values())
    if facts.shapeless_compute or total <= 0:
        return PeakChoice(None, None, f"dots in several dtypes ({', '.join(sorted(work))}) whose FLOPs could not be "
                                      "read from their shapes, so no share of each is known")
    mix = {k: v / total for k, v in work.items()}
    peak = total / sum(v / peaks[k] for k, v in work.items())
    return PeakChoice(peak, "mixed", "dots in several dtypes: FLOP-weighted roof sum(f) / sum(f_d / peak_d)", mix)


@register_profiler
class RooflineProfiler(BaseProfiler):
    """``achieved_flops`` (per round), ``arithmetic_intensity`` and ``roofline_efficiency``."""

    name = "roofline"
    produces = ("achieved_flops", "arithmetic_intensity", "roofline_efficiency")
    needs = ("flops",)
    _facts: HloFacts | None = None

    def compiled(self, executable: Any) -> None:
        try:
            text = executable.as_text()
        except Exception:  # a backend that cannot print its executable
            return
        self._facts = hlo_facts(str(text or ""))

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
        if not opts.peaks or not opts.bandwidth:
            unavailable["roofline_efficiency"] = _NO_PEAKS
            return ProfileOutput(found, unavailable, meta)
        choice = pick_peak(opts.peaks, self._facts)
        meta.update(peak_rule=choice.rule, peak_dtype=choice.dtype, peak_flops_by_dtype=opts.peaks,
                    dot_flops_by_dtype=dict(self._facts.compute) if self._facts else None)
        if choice.peak is None:
            unavailable["roofline_efficiency"] = f"no compute roof for this case: {choice.rule}"
            return ProfileOutput(found, unavailable, meta)
        r = roofline(f, b, choice.peak, opts.bandwidth)
        devices = int(flops.meta.get("partitions") or 1)
        attainable = r.attainable * devices  # the peaks are per chip; flops and time cover every device
        meta.update(peak_flops=choice.peak, bandwidth=opts.bandwidth, peak_source=opts.peak_source, peak_mix=choice.mix,
                    attainable_flops=attainable, attainable_flops_per_device=r.attainable, devices=devices,
                    ridge=r.ridge, bound=r.bound, basis="derived")
        if achieved:
            found["roofline_efficiency"] = MeasureResult(
                measure_for("roofline_efficiency"), tuple(a / attainable for a in achieved), meta=dict(meta))
        else:
            unavailable["roofline_efficiency"] = "no time samples"
        return ProfileOutput(found, unavailable, meta)
