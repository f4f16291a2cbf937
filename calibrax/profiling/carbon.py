"""Emissions per call: energy x grid carbon intensity x PUE, or codecarbon's offline tracker.

Two backends, chosen by ``profile.carbon.backend``:

- ``formula`` (the default): g CO2e = kWh x intensity (g CO2e/kWh) x PUE, from the ``energy``
  measure. The intensity defaults to the world average of 475 g/kWh (IEA, 2019) and the PUE
  to 1; ``profile.carbon.intensity`` and ``profile.carbon.pue`` set them. Both are stored with the
  measure, so a figure can be recomputed for another grid.
- ``codecarbon``: codecarbon's ``OfflineEmissionsTracker`` (no network) around untimed calls
  of the workload lasting at least :data:`CODECARBON_REGION` seconds, with the grid of
  ``profile.carbon.country`` (ISO 3166 alpha-3) and ``profile.carbon.pue``. It needs the optional
  package: ``pip install calibrax[carbon]``.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any

from calibrax.core.errors import CalibraxError
from calibrax.core.models import MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling.base import BaseProfiler, ProfileOutput, register_profiler

__all__ = ["CODECARBON_REGION", "CarbonProfiler", "WORLD_INTENSITY", "codecarbon_available", "grams_co2e",
           "require_codecarbon"]

WORLD_INTENSITY = 475.0
"""World-average grid carbon intensity, g CO2e per kWh (IEA, Global Energy & CO2 Status 2019)."""
CODECARBON_REGION = 1.0
"""Seconds of untimed calls that codecarbon's tracker measures per case, at least."""
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


def codecarbon_available() -> bool:
    """Whether the codecarbon package can be imported here (looked up, not imported).

    Example:
        >>> isinstance(codecarbon_available(), bool)
        True
    """
    try:
        return importlib.util.find_spec("codecarbon") is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken spec
        return False


def require_codecarbon() -> None:
    """Raise unless codecarbon can be imported.

    Raises:
        CalibraxError: codecarbon is not installed; the message names the extra to install.
    """
    if not codecarbon_available():
        raise CalibraxError(
            "profile.carbon.backend=codecarbon needs the codecarbon package, which is not installed "
            "here. Install it with: pip install calibrax[carbon] (or set profile.carbon.backend=formula "
            "to compute carbon from the energy measure)."
        )


@register_profiler
class CarbonProfiler(BaseProfiler):
    """``carbon`` (g CO2e per call) from the ``energy`` measure, or from codecarbon."""

    name = "carbon"
    produces = ("carbon",)
    needs = ("energy",)
    _workload: Workload | None = None

    def start(self, workload: Workload) -> None:
        self._workload = workload

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        opts = self.context.options
        if opts.carbon_backend == "codecarbon":
            return self._codecarbon()
        energy = measures.get("energy")
        if energy is None or not energy.samples:
            return ProfileOutput(unavailable={"carbon": "energy is unavailable here (see the energy measure's reason)"})
        meta = {"backend": "formula", "intensity_g_per_kwh": opts.carbon_intensity, "pue": opts.pue,
                "energy_sources": energy.meta.get("sources")}
        grams = tuple(grams_co2e(j, opts.carbon_intensity, opts.pue) for j in energy.samples)
        return ProfileOutput({"carbon": MeasureResult(measure_for("carbon"), grams, meta=meta)}, {}, meta)

    def _codecarbon(self) -> ProfileOutput:
        require_codecarbon()
        import jax
        from codecarbon import OfflineEmissionsTracker
        from codecarbon.emissions_tracker import BaseEmissionsTracker
        from codecarbon.input import DataSource

        opts = self.context.options
        country = (opts.carbon_country or "").upper()
        known = DataSource().get_global_energy_mix_data()
        if country not in known:
            raise CalibraxError(
                f"profile.carbon.country={opts.carbon_country!r} is not a country codecarbon knows; give an "
                "ISO 3166 alpha-3 code such as FRA, DEU or USA."
            )
        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        # No output anywhere (codecarbon 3 takes output_methods; 2.x takes save_to_file).
        quiet: dict[str, Any] = ({"output_methods": []} if "output_methods" in
                                 inspect.signature(BaseEmissionsTracker.__init__).parameters else
                                 {"save_to_file": False})
        tracker = OfflineEmissionsTracker(
            country_iso_code=country, pue=opts.pue, log_level="error", tracking_mode="process",
            allow_multiple_runs=True, project_name=f"calibrax {self.context.benchmark}", **quiet,
        )
        calls = 0
        tracker.start()
        t0 = time.perf_counter()
        try:
            while calls == 0 or time.perf_counter() - t0 < CODECARBON_REGION:
                assert self._workload is not None
                jax.block_until_ready(self._workload.call())
                calls += 1
        finally:
            kg = tracker.stop()
        data = tracker.final_emissions_data
        kwh = float(getattr(data, "energy_consumed", 0.0) or 0.0)
        meta: dict[str, Any] = {
            "backend": "codecarbon", "codecarbon_version": getattr(data, "codecarbon_version", None),
            "country": country, "country_name": getattr(data, "country_name", None), "pue": opts.pue,
            "calls": calls, "region_seconds": float(getattr(data, "duration", 0.0) or 0.0),
            "energy_kwh": kwh, "cpu_power_w": getattr(data, "cpu_power", None),
            "ram_power_w": getattr(data, "ram_power", None), "gpu_power_w": getattr(data, "gpu_power", None),
            "intensity_g_per_kwh": float(kg or 0.0) * 1000.0 / kwh if kwh > 0 else None,
        }
        grams = float(kg or 0.0) * 1000.0 / calls
        return ProfileOutput({"carbon": MeasureResult(measure_for("carbon"), (grams,), meta=meta)}, {}, meta)
