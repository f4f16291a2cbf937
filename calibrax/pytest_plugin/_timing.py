"""One timed call of the ``calibrax`` fixture, as the runner times a case.

The callable (or a :class:`~calibrax.core.Workload` built with carry or setup) is timed by
:func:`~calibrax.profiling.measure_profiled` with the run's timing protocol and profilers,
the same path ``calibrax-run`` takes inside a worker; the result is a
:class:`~calibrax.core.models.CaseResult` with summaries, ready for ``Store.add_case``.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calibrax.core.models import CaseResult, CaseStatus, MeasureResult
from calibrax.core.workload import Workload
from calibrax.profiling import ProfileContext, ProfilingOptions, TimingProtocol, measure_profiled
from calibrax.runner.execute import summarised, utc_now

__all__ = ["TimedCall", "time_call"]

_SESSION_FIELDS = ("artifacts", "unavailable", "profiler_errors")


@dataclass(frozen=True)
class TimedCall:
    """What timing one call gave: the stored case, and the call's result or its exception."""

    case: CaseResult
    result: Any = None
    exception: BaseException | None = None


def time_call(name: str, params: Mapping[str, Any], workload: Workload, protocol: TimingProtocol,
              profiling: ProfilingOptions, meta: Mapping[str, Any] | None = None) -> TimedCall:
    """Time ``workload`` as case ``name`` at ``params``, then call it once more for its result.

    A failure while timing becomes an ``error`` case holding the traceback and whatever was
    measured before it; the exception travels back for the test to raise.

    Example:
        >>> quick = TimingProtocol(min_rounds=2, min_time=0, warmup_time=0)
        >>> timed = time_call("test_pow", {}, Workload(pow, args=(2, 10)), quick, ProfilingOptions())
        >>> timed.case.status.value, timed.result, len(timed.case.measures["time"].samples) >= 2
        ('ok', 1024, True)
    """
    __tracebackhide__ = True
    started_at, t0 = utc_now(), time.perf_counter()
    measures: dict[str, MeasureResult] = {}
    case_meta: dict[str, Any] = {"pid": os.getpid(), **(meta or {})}
    status, error, result, exception = CaseStatus.OK, None, None, None
    try:
        context = ProfileContext(name, dict(params), profiling, None)
        measure_profiled(workload, protocol, context, into=measures, meta=case_meta)
        result = workload.call()
    except Exception as exc:
        status, error, exception = CaseStatus.ERROR, traceback.format_exc(), exc
    case = CaseResult(
        benchmark=name, params=dict(params), status=status, measures=measures, error=error,
        started_at=started_at, duration=time.perf_counter() - t0,
        meta={k: v for k, v in case_meta.items() if k not in _SESSION_FIELDS},
        artifacts=dict(case_meta.get("artifacts") or {}),
        unavailable=dict(case_meta.get("unavailable") or {}),
        profiler_errors=dict(case_meta.get("profiler_errors") or {}),
    )
    return TimedCall(summarised(case), result, exception)
