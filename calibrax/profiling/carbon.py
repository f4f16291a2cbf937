"""Emissions per call: energy x grid carbon intensity x PUE.

g CO2e = kWh x intensity (g CO2e/kWh) x PUE. The intensity defaults to the world average of
475 g/kWh (IEA, 2019) and the PUE to 1; ``profile.carbon_intensity`` and ``profile.pue`` set
them. Both are stored with the measure, so a figure can be recomputed for another grid.
"""

from __future__ import annotations

from collections.abc import Mapping

from calibrax.core.models import MeasureResult, measure_for
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["CarbonProfiler", "WORLD_INTENSITY", "grams_co2e"]

WORLD_INTENSITY = 475.0
"""World-average grid carbon intensity, g CO2e per kWh (IEA, Global Energy & CO2 Status 2019)."""
_J_PER_KWH = 3.6e6


def grams_co2e(joules: float, intensity: float = WORLD_INTENSITY, pue: float = 1.0) -> float:
    """Emissions of ``joules`` of electricity, in grams CO2e.

    Example:
        >>> grams_co2e(3.6e6)  # one kWh at the world average
        475.0

    References:
        IEA, Global Energy & CO2 Status Report 2019; The Green Grid, "PUE: a comprehensive
        examination of the metric" (2012).
    """
    if intensity < 0 or pue < 1:
        raise ValueError(f"The carbon intensity must be >= 0 and the PUE >= 1, got {intensity} and {pue}.")
    return joules / _J_PER_KWH * intensity * pue


@register_profiler
class CarbonProfiler(BaseProfiler):
    """``carbon`` (g CO2e per call) from the ``energy`` measure."""

    name = "carbon"
    needs = ("energy",)

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        energy = measures.get("energy")
        if energy is None or not energy.samples:
            return ProfileOutput(unavailable={"carbon": "energy is unavailable here (see the energy measure's reason)"})
        opts = self.context.options
        meta = {"intensity_g_per_kwh": opts.carbon_intensity, "pue": opts.pue,
                "energy_sources": energy.meta.get("sources")}
        grams = tuple(grams_co2e(j, opts.carbon_intensity, opts.pue) for j in energy.samples)
        return ProfileOutput({"carbon": MeasureResult(measure_for("carbon"), grams, meta=meta)}, {}, meta)
