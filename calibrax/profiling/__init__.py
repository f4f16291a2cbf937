"""profiling: measurements around a Workload (processing layer; imports only core).

Importing this package registers the built-in profilers: resources, flops, roofline,
compilation, memory, gpu, energy and carbon, and the opt-in tracing (see ``PROFILERS``).
"""

from calibrax.profiling import carbon, compilation, energy, gpu, resources, tracing  # noqa: F401  (registers them)
from calibrax.profiling.base import (
    PROFILERS,
    RUNNER_STEPS,
    BaseProfiler,
    ProfileContext,
    ProfileOutput,
    Profiler,
    ProfilerSession,
    ProfilingOptions,
    measure_profiled,
    register_profiler,
    resolve_profilers,
)
from calibrax.profiling.flops import analytic_flops, cost_summary, declare_flops
from calibrax.profiling.roofline import Roofline, roofline
from calibrax.profiling.timing import TimingProtocol, calibrate_calls, measure_workload, time_stages
from calibrax.profiling.tracing import summarize_trace

__all__ = [
    "PROFILERS",
    "RUNNER_STEPS",
    "BaseProfiler",
    "ProfileContext",
    "ProfileOutput",
    "Profiler",
    "ProfilerSession",
    "ProfilingOptions",
    "Roofline",
    "TimingProtocol",
    "analytic_flops",
    "calibrate_calls",
    "cost_summary",
    "declare_flops",
    "measure_profiled",
    "measure_workload",
    "register_profiler",
    "resolve_profilers",
    "roofline",
    "summarize_trace",
    "time_stages",
]
