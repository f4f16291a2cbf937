"""The runner's side of profiling: which profilers run, and with which peaks.

- :func:`check_profilers` validates ``profile.profilers`` and the carbon backend before
  anything runs (exit 2).
- :func:`profiling_options` turns the config and the machine's fingerprint into the
  :class:`~calibrax.profiling.ProfilingOptions` sent to every case: roofline peaks come from
  the hardware target (``hardware.peak_flops``, ``hardware.bandwidth``), else from a
  ``calibrax hardware --calibrate`` of this machine, else none (the roofline then says why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from calibrax.core.errors import ConfigError
from calibrax.core.models import HardwareInfo
from calibrax.profiling import (
    ProfilingOptions,
    calibration_path,
    codecarbon_available,
    load_calibration,
    resolve_profilers,
)
from calibrax.runner.config import CalibraxConfig, CarbonBackend, ProfileConfig

__all__ = ["check_profilers", "profiling_options"]


def check_profilers(profile: ProfileConfig) -> None:
    """Raise ConfigError for an unknown name in ``profile.profilers``, for a codecarbon backend
    without its country or package, and for ``trace_calls`` or ``device_calls`` below 1."""
    names, _ = resolve_profilers(profile.profilers)
    for key in ("trace_calls", "device_calls"):
        if getattr(profile, key) < 1:
            raise ConfigError(f"profile.{key} must be at least 1, got {getattr(profile, key)!r}.")
    if "carbon" not in names or profile.carbon_backend is not CarbonBackend.codecarbon:
        return
    country = profile.carbon_country
    if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{3}", country):
        raise ConfigError(
            "profile.carbon_backend=codecarbon needs the grid's country as an ISO 3166 alpha-3 code, got "
            f"profile.carbon_country={country!r}; e.g. profile.carbon_country=FRA."
        )
    if not codecarbon_available():
        raise ConfigError(
            "profile.carbon_backend=codecarbon needs the codecarbon package, which is not installed here. "
            "Install it with: pip install calibrax[carbon] (or use profile.carbon_backend=formula)."
        )


def profiling_options(cfg: CalibraxConfig, hardware: HardwareInfo, trace_dir: str | None = None) -> ProfilingOptions:
    """The profiling options of a run on ``hardware``; traces go under ``trace_dir``."""
    profile, hw = cfg.profile, cfg.hardware
    names, steps = resolve_profilers(profile.profilers)
    peak: Any = hw.peak_flops
    bandwidth: float | None = hw.bandwidth
    source = f"hardware target {hw.name!r}" if peak and bandwidth else None
    if not (peak and bandwidth):
        cal = load_calibration(hardware.fingerprint)
        if cal is not None:
            peak, bandwidth = cal.peak_flops, cal.bandwidth
            source = f"calibration of {cal.measured_at} in {calibration_path()}"
        else:
            peak = bandwidth = None
    return ProfilingOptions(
        profilers=names,
        peak_flops=_peaks(peak),
        bandwidth=float(bandwidth) if bandwidth else None,
        peak_source=source,
        carbon_intensity=profile.carbon_intensity,
        pue=profile.pue,
        complexity="complexity" in steps,
        carbon_backend=profile.carbon_backend.value,
        carbon_country=profile.carbon_country,
        trace_dir=trace_dir,
        trace_calls=profile.trace_calls,
    )


def _peaks(peak: Any) -> Any:
    """A scalar peak as a float, a per-dtype mapping as a plain dict (None when unknown)."""
    if not peak:
        return None
    if isinstance(peak, Mapping):
        return {str(k): float(v) for k, v in peak.items()}
    return float(peak)
