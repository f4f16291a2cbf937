"""Every registered profiler passes calibrax.testing.ProfilerConformance: one class per row,
made from the registry, so a new profiler is tested here without a line added."""

from __future__ import annotations

from calibrax.profiling import PROFILERS
from calibrax.testing import ProfilerConformance

for _name in PROFILERS.names():
    _cls = f"TestProfiler_{_name}"
    globals()[_cls] = type(_cls, (ProfilerConformance,), {"profiler": _name})
