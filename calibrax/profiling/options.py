"""The options of profiling: one commented dataclass per profiler that has any, the one place
its defaults live, and the frozen :class:`ProfilingOptions` the run hands the profilers.

The per-profiler ones are the config groups ``profile.carbon`` and ``profile.tracing`` of
``calibrax-run`` (``profile.carbon.intensity=300``, ``profile.tracing.calls=5``), so they stay
plain (not frozen) dataclasses that Hydra can override; the run copies their values into the
frozen :class:`ProfilingOptions` that travels to each worker, whose defaults are read from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from calibrax.core.errors import ConfigError

__all__ = ["CarbonBackend", "CarbonOptions", "ProfilingOptions", "TracingOptions"]


class CarbonBackend(str, Enum):
    formula = "formula"  # energy x profile.carbon.intensity x profile.carbon.pue (needs the energy measure)
    codecarbon = "codecarbon"  # codecarbon's offline tracker (pip install calibrax[carbon])


@dataclass
class CarbonOptions:
    """``profile.carbon``: how the ``carbon`` profiler turns energy into grams of CO2e.

    Example:
        >>> CarbonOptions().intensity, CarbonOptions().backend.value
        (475.0, 'formula')
    """

    backend: CarbonBackend = CarbonBackend.formula  # formula or codecarbon
    intensity: float = 475.0  # g CO2e per kWh of the grid (world average, IEA 2019); formula backend
    pue: float = 1.0  # power usage effectiveness of the data centre (>= 1; 1 for a desktop)
    country: str | None = None  # ISO 3166 alpha-3 country for codecarbon's grid (e.g. FRA, USA)


@dataclass
class TracingOptions:
    """``profile.tracing``: where the opt-in ``tracing`` profiler writes its traces, and how much
    each holds.

    Example:
        >>> TracingOptions().calls
        3
    """

    dir: str = "traces"  # traces go to DIR/<run-id>/, relative to the store's folder unless absolute
    calls: int = 3  # untimed calls recorded in each case's trace (>= 1)


@dataclass(frozen=True)
class ProfilingOptions:
    """What the runner asks of the profilers; travels to worker processes as JSON.

    Attributes:
        profilers: profiler names to run, resolved (no ``all``, ``timing`` or ``complexity``),
            in the order they are stopped.
        peak_flops: the target's dense peak FLOP/s per dtype (``{"bf16": 989e12, "fp32":
            67e12}``; keys in ``PEAK_DTYPES``, aliases such as ``bfloat16`` or ``float32``
            accepted), or None when unknown. A single number (the old form) is kept as
            ``{"any": value}``: the roofline then uses it for every dtype and ``peak_source``
            says so.
        bandwidth: the target's peak memory bandwidth in bytes/s, or None when unknown.
        peak_source: where the peaks came from (a hardware config or a calibration file).
        carbon_intensity: grid carbon intensity in g CO2e per kWh.
        pue: power usage effectiveness of the data centre (1 for a desktop).
        complexity: whether the runner fits complexity classes over size sweeps.
        carbon_backend: ``formula`` (energy x intensity x PUE) or ``codecarbon`` (its offline
            tracker, with the grid of ``carbon_country``).
        carbon_country: ISO 3166 alpha-3 code of the country whose grid codecarbon uses.
        trace_dir: the folder the ``tracing`` profiler writes each case's trace under (None:
            a new temporary folder).
        trace_calls: untimed calls recorded in each trace.

    Raises:
        ConfigError: a ``peak_flops`` key that names no dtype, or a peak that is not a
            positive number.

    Example:
        >>> ProfilingOptions(peak_flops={"bfloat16": 989e12, "fp32": 67e12}).peak_flops
        {'bf16': 989000000000000.0, 'fp32': 67000000000000.0}
        >>> ProfilingOptions(peak_flops=1e12, peak_source="hardware target 'x'").peak_source
        "hardware target 'x' (one peak_flops for every dtype)"
    """

    PEAK_DTYPES: ClassVar[tuple[str, ...]] = ("fp8", "int8", "int4", "bf16", "fp16", "tf32", "fp32", "fp64")
    _PEAK_ALIASES: ClassVar[Mapping[str, str]] = {
        "bfloat16": "bf16", "float16": "fp16", "f16": "fp16", "half": "fp16", "float32": "fp32", "f32": "fp32",
        "float": "fp32", "float64": "fp64", "f64": "fp64", "double": "fp64", "float8": "fp8", "f8": "fp8",
        "s8": "int8", "i8": "int8", "s4": "int4", "i4": "int4", "tensorfloat32": "tf32",
    }

    profilers: tuple[str, ...] = ()
    peak_flops: Mapping[str, float] | float | None = None
    bandwidth: float | None = None
    peak_source: str | None = None
    carbon_intensity: float = CarbonOptions.intensity
    pue: float = CarbonOptions.pue
    complexity: bool = False
    carbon_backend: str = CarbonOptions.backend.value
    carbon_country: str | None = CarbonOptions.country
    trace_dir: str | None = None  # the run's folder (TracingOptions.dir resolved), None: a temporary one
    trace_calls: int = TracingOptions.calls

    def __post_init__(self) -> None:
        value = self.peak_flops
        if value is None or isinstance(value, Mapping):
            object.__setattr__(self, "peak_flops", self.normalise_peaks(value))
            return
        object.__setattr__(self, "peak_flops", self.normalise_peaks({"any": value}))
        object.__setattr__(self, "peak_source", f"{self.peak_source or 'peak_flops'} (one peak_flops for every dtype)")

    @classmethod
    def normalise_peaks(cls, peaks: Mapping[str, Any] | None) -> dict[str, float] | None:
        """Peaks keyed by canonical dtype names; None (or an empty mapping) gives None.

        Raises:
            ConfigError: an unknown dtype key or a peak that is not a positive number.

        Example:
            >>> ProfilingOptions.normalise_peaks({"BF16": 1e15, "float32": "6.7e13"})
            {'bf16': 1000000000000000.0, 'fp32': 67000000000000.0}
        """
        if not peaks:
            return None
        allowed = (*cls.PEAK_DTYPES, "any")
        out: dict[str, float] = {}
        for raw, peak in peaks.items():
            key = cls._PEAK_ALIASES.get(str(raw).strip().lower(), str(raw).strip().lower())
            if key not in allowed:
                raise ConfigError(
                    f"hardware.peak_flops: unknown dtype {raw!r}; use one of {', '.join(cls.PEAK_DTYPES)} "
                    "(for example peak_flops: {bf16: 989.0e12, fp32: 67.0e12}), or one number for every dtype.")
            try:
                number = float(peak)
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and number > 0) or isinstance(peak, bool):
                raise ConfigError(f"hardware.peak_flops.{key} must be a positive number of FLOP/s, got {peak!r}.")
            out[key] = number
        return out

    @property
    def peaks(self) -> dict[str, float]:
        """The normalised ``peak_flops`` (empty when unknown)."""
        return dict(self.peak_flops) if isinstance(self.peak_flops, Mapping) else {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``ProfilingOptions.from_dict`` reads it back."""
        peaks = self.peak_flops
        return {**self.__dict__, "profilers": list(self.profilers),
                "peak_flops": dict(peaks) if isinstance(peaks, Mapping) else peaks}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ProfilingOptions:
        """Options from :meth:`to_dict` output (None gives the defaults)."""
        data = dict(data or {})
        data["profilers"] = tuple(data.get("profilers") or ())
        return cls(**data)
