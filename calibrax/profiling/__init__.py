"""profiling: measurements around a Workload (processing layer; imports only core).

Importing this package registers the built-in profilers: resources, flops, roofline,
compilation, memory, gpu, energy and carbon, and the opt-in tracing (see ``PROFILERS``).
"""

from calibrax.profiling import carbon, compilation, energy, gpu, resources, tracing  # noqa: F401  (registers them)
from calibrax.profiling.base import (
    PROFILERS,
    RUNNER_STEPS,
    TIMING_MEASURES,
    BaseProfiler,
    ProfileContext,
    ProfileOutput,
    Profiler,
    producible_measures,
    register_profiler,
    resolve_profilers,
)
from calibrax.profiling.cache import CacheFlusher, cache_info, last_level_cache_bytes, rotated_args
from calibrax.profiling.calibrate import calibration_path, load_calibration
from calibrax.profiling.carbon import codecarbon_available
from calibrax.profiling.devicetime import DeviceTimeError, device_measures
from calibrax.profiling.flops import analytic_flops, cost_summary, declare_flops
from calibrax.profiling.hardware import apply_platform, device_info, hardware_info, host_info
from calibrax.profiling.options import CarbonBackend, CarbonOptions, ProfilingOptions, TracingOptions
from calibrax.profiling.roofline import Roofline, roofline
from calibrax.profiling.session import ProfilerSession, measure_profiled
from calibrax.profiling.timing import TimingProtocol, calibrate_calls, measure_workload, time_stages
from calibrax.profiling.tracing import summarize_trace

__all__ = [
    "PROFILERS",
    "RUNNER_STEPS",
    "TIMING_MEASURES",
    "BaseProfiler",
    "CacheFlusher",
    "CarbonBackend",
    "CarbonOptions",
    "DeviceTimeError",
    "ProfileContext",
    "ProfileOutput",
    "Profiler",
    "ProfilerSession",
    "ProfilingOptions",
    "Roofline",
    "TimingProtocol",
    "TracingOptions",
    "analytic_flops",
    "apply_platform",
    "calibration_path",
    "codecarbon_available",
    "device_info",
    "hardware_info",
    "host_info",
    "last_level_cache_bytes",
    "load_calibration",
    "cache_info",
    "calibrate_calls",
    "cost_summary",
    "declare_flops",
    "device_measures",
    "measure_profiled",
    "producible_measures",
    "measure_workload",
    "register_profiler",
    "resolve_profilers",
    "roofline",
    "rotated_args",
    "summarize_trace",
    "time_stages",
]
