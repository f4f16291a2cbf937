"""profiling: measurements around a Workload (processing layer; imports only core)."""

from calibrax.profiling.timing import TimingProtocol, calibrate_calls, measure_workload, time_stages

__all__ = ["TimingProtocol", "calibrate_calls", "measure_workload", "time_stages"]
