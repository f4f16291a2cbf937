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
from dataclasses import replace
from typing import TYPE_CHECKING

from calibrax.core.errors import ConfigError
from calibrax.core.models import HardwareInfo
from calibrax.profiling import (
    CarbonBackend,
    ProfilingOptions,
    calibration_path,
    codecarbon_available,
    load_calibration,
    resolve_profilers,
)

if TYPE_CHECKING:  # the worker imports this module: keep the config (and its exporters) out of it
    from calibrax.runner.config import CalibraxConfig, ProfileConfig

__all__ = ["check_profilers", "needs_calibration", "profiling_options", "with_calibration"]


def check_profilers(profile: ProfileConfig) -> None:
    """Raise ConfigError for an unknown name in ``profile.profilers``, for a codecarbon backend
    without its country or package, and for ``tracing.calls`` or ``device_calls`` below 1."""
    names, _ = resolve_profilers(profile.profilers)
    for key, value in (("tracing.calls", profile.tracing.calls), ("device_calls", profile.device_calls)):
        if value < 1:
            raise ConfigError(f"profile.{key} must be at least 1, got {value!r}.")
    carbon = profile.carbon
    if "carbon" not in names or str(getattr(carbon.backend, "value", carbon.backend)) != "codecarbon":
        return
    if not isinstance(carbon.country, str) or not re.fullmatch(r"[A-Za-z]{3}", carbon.country):
        raise ConfigError(
            "profile.carbon.backend=codecarbon needs the grid's country as an ISO 3166 alpha-3 code, got "
            f"profile.carbon.country={carbon.country!r}; e.g. profile.carbon.country=FRA."
        )
    if not codecarbon_available():
        raise ConfigError(
            "profile.carbon.backend=codecarbon needs the codecarbon package, which is not installed here. "
            "Install it with: pip install calibrax[carbon] (or use profile.carbon.backend=formula)."
        )


def profiling_options(cfg: CalibraxConfig, hardware: HardwareInfo | None = None,
                      trace_dir: str | None = None) -> ProfilingOptions:
    """The profiling options of a run; traces go under ``trace_dir``.

    Roofline peaks come from the hardware target when it declares both; otherwise, once the
    machine is known (``hardware``, or in the first worker: :func:`with_calibration`), from a
    ``calibrax hardware --calibrate`` of this fingerprint, else none.
    """
    profile, hw = cfg.profile, cfg.hardware
    names, steps = resolve_profilers(profile.profilers)
    declared = bool(hw.peak_flops and hw.bandwidth)
    options = ProfilingOptions(
        profilers=names,
        peak_flops=hw.peak_flops if declared else None,  # ProfilingOptions normalises a number or a mapping
        bandwidth=float(hw.bandwidth) if declared and hw.bandwidth else None,
        peak_source=f"hardware target {hw.name!r}" if declared else None,
        carbon_intensity=profile.carbon.intensity,
        pue=profile.carbon.pue,
        complexity="complexity" in steps,
        carbon_backend=CarbonBackend(profile.carbon.backend).value,
        carbon_country=profile.carbon.country,
        trace_dir=trace_dir,
        trace_calls=profile.tracing.calls,
    )
    return with_calibration(options, hardware) if hardware is not None else options


def needs_calibration(cfg: CalibraxConfig) -> bool:
    """Whether the peaks must come from this machine's calibration (the target declares none)."""
    return not (cfg.hardware.peak_flops and cfg.hardware.bandwidth)


def with_calibration(options: ProfilingOptions, hardware: HardwareInfo) -> ProfilingOptions:
    """``options`` with the peaks ``calibrax hardware --calibrate`` measured on ``hardware``,
    when it declares none and a calibration of that fingerprint exists."""
    if options.peak_flops and options.bandwidth:
        return options
    cal = load_calibration(hardware.fingerprint)
    if cal is None:
        return options
    return replace(options, peak_flops=cal.peak_flops, bandwidth=float(cal.bandwidth),
                   peak_source=f"calibration of {cal.measured_at} in {calibration_path()}")
