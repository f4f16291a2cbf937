"""The worker process: ``python -m calibrax.runner._worker FD`` runs one benchmark's cases.

It reads a job (JSON) on stdin and writes events, one JSON object per line, to file
descriptor FD, so that a benchmark printing to stdout cannot corrupt them:

- ``{"event": "hello", "device": {...}}`` once JAX has started its backend;
- ``{"event": "start", "index": i}`` before case i, ``{"event": "case", ...}`` after it;
- ``{"event": "fatal", "kind": "hardware"|"benchmark", "error": ...}`` when nothing can run;
- ``{"event": "done"}`` at the end.

``calibrax-run`` learns the device from the first worker's ``hello``: no process is started
just to probe it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from typing import Any, TextIO

from calibrax.core.errors import HardwareUnavailableError
from calibrax.core.result import case_to_dict
from calibrax.profiling import (
    ProfilingOptions,
    TimingProtocol,
    apply_platform,
    device_info,
    hardware_info,
    host_info,
)
from calibrax.runner.execute import load_benchmark, run_case
from calibrax.runner.profilers import with_calibration


def _emit(channel: TextIO, **event: Any) -> None:
    channel.write(json.dumps(event, default=str) + "\n")
    channel.flush()


def serve(job: dict[str, Any], channel: TextIO) -> None:
    """Run ``job`` and report on ``channel``."""
    for entry in reversed(job.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        apply_platform(job.get("platform"))
        device = device_info(job.get("platform"))
    except HardwareUnavailableError as exc:
        _emit(channel, event="fatal", kind="hardware", error=str(exc))
        return
    _emit(channel, event="hello", pid=os.getpid(), device=device)
    try:
        spec = load_benchmark(job["benchmark"], job.get("source"))
    except Exception:
        _emit(channel, event="fatal", kind="benchmark", error=traceback.format_exc())
        return
    protocol = TimingProtocol(**job["protocol"])
    profiling = ProfilingOptions.from_dict(job.get("profiling"))
    if job.get("calibrated_peaks"):  # the target declares no peaks: this machine's calibration, if any
        profiling = with_calibration(profiling, hardware_info(host_info(), device))
    metrics = []
    if job.get("metrics"):  # calibrax.metrics imports JAX: after the platform is applied
        from calibrax.metrics import MetricSpec

        metrics = [MetricSpec(**m) for m in job["metrics"]]
    output_checks = list(job.get("output_checks") or [])
    for index, params in job["cases"]:
        _emit(channel, event="start", index=index)
        case = run_case(spec, params, protocol, profiling, metrics, output_checks)
        _emit(channel, event="case", index=index, case=case_to_dict(case))
    _emit(channel, event="done")


def _exit_with_parent(interval: float = 0.5) -> None:
    """End this worker (and its process group) once the process that started it is gone.

    Workers run in their own process group so a timeout can kill it whole. The kernel's death
    signal and the group's guard (``calibrax.runner._reaper``) end a worker whose parent died
    even while it holds the GIL; this thread is the fallback where ``prctl`` is missing.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="calibrax-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    _exit_with_parent()
    fd = int(argv[1])
    with os.fdopen(fd, "w", buffering=1, encoding="utf-8") as channel:
        serve(json.load(sys.stdin), channel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
