"""The options of each profiler that has any: one commented dataclass per profiler, the one place
its defaults live.

They are the config groups ``profile.carbon`` and ``profile.tracing`` of ``calibrax-run``
(``profile.carbon.intensity=300``, ``profile.tracing.calls=5``), so they stay plain (not frozen)
dataclasses that Hydra can override; the run copies their values into the frozen
:class:`~calibrax.profiling.ProfilingOptions` that travels to each worker, whose defaults are
read from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CarbonBackend", "CarbonOptions", "TracingOptions"]


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
