"""Run a benchmark's cases in a worker process, surviving crashes and timeouts.

The parent starts ``python -m calibrax.runner._worker`` in a process group of its own, beside
a guard process that kills the group when the parent goes (even by SIGKILL), sends the job
and reads events from a private pipe. A case that outlives ``case_timeout`` has the worker's
whole process group killed and is recorded as ``timeout``; a worker that dies mid-case
(segfault, out-of-memory kill, ``os._exit``) gives a ``crashed`` case. Either way a fresh
worker takes the remaining cases.

With ``WorkerJob.server`` (a :class:`calibrax.runner.forkserver.ForkServer`), the worker is
forked from a server that has already imported JAX and the benchmark's source instead of
started as a new interpreter; it joins the same kind of guarded process group, so timeouts,
crashes and the parent's death are handled alike. A server that has gone makes a plain worker.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from calibrax.core.errors import HardwareUnavailableError
from calibrax.core.models import CaseResult, CaseStatus
from calibrax.core.result import case_from_dict
from calibrax.runner._reaper import Guard, die_with_parent
from calibrax.runner.execute import utc_now
from calibrax.runner.forkserver import ForkServer, ForkServerUnavailable

__all__ = ["WorkerJob", "run_isolated"]

_TAIL = 4000


@dataclass(frozen=True)
class WorkerJob:
    """What one worker runs: a benchmark, its cases and how to time them."""

    benchmark: str
    source: str | None
    cases: Sequence[tuple[int, Mapping[str, Any]]]
    protocol: Mapping[str, Any]
    platform: str | None
    sys_path: Sequence[str]
    case_timeout: float
    start_timeout: float
    profiling: Mapping[str, Any] = field(default_factory=dict)  # ProfilingOptions.to_dict()
    metrics: Sequence[Mapping[str, Any]] = ()  # MetricSpec.to_dict() of each quality metric
    output_checks: Sequence[Mapping[str, Any]] = ()  # ValidationSpec.output_checks(): made in the worker
    calibrated_peaks: bool = False  # the worker adds this machine's calibrated roofline peaks
    # called in this process with the device each worker reports, before its first case
    on_device: Callable[[Mapping[str, Any]], None] | None = field(default=None, compare=False)
    # fork the worker from this server (imports already done) instead of a new interpreter
    server: ForkServer | None = field(default=None, compare=False)


class _WorkerGone(Exception):
    """The worker closed its channel (exited or was killed)."""


class _Worker:
    """One worker process with a line-oriented event channel, in a process group of its own
    with a guard (see :mod:`calibrax.runner._reaper`)."""

    def __init__(self, payload: dict[str, Any], server: ForkServer | None = None) -> None:
        self._guard = Guard()
        read_fd, write_fd = os.pipe()
        self.log: IO[bytes] = tempfile.TemporaryFile()
        self._server: ForkServer | None = None
        self._code: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        if server is not None:
            try:
                self.pid = server.fork(payload, write_fd, self.log.fileno(), self._guard.pgid)
                self._server = server
            except ForkServerUnavailable:
                pass
        if self._server is None:
            self._start(payload, write_fd)
        os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(read_fd, selectors.EVENT_READ)

    def _start(self, payload: dict[str, Any], write_fd: int) -> None:
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "calibrax.runner._worker", str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                process_group=self._guard.pgid,
                preexec_fn=die_with_parent(),  # only a prctl call, safe in a threaded parent
            )
        except BaseException:
            self._guard.close()
            raise
        self.pid = self.proc.pid
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(payload).encode())
        self.proc.stdin.close()

    def wait(self) -> int:
        """The worker's exit code, once it has ended (negative: killed by that signal)."""
        if self.proc is not None:
            return self.proc.wait()
        if self._code is None:
            assert self._server is not None
            self._code = self._server.wait(self.pid)
        return self._code

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when ``timeout`` seconds pass without one."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise _WorkerGone()
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event

    def kill(self) -> None:
        """Kill the worker's whole process group: the worker, what it started and the guard."""
        self._guard.kill_group()

    def exit_reason(self) -> str:
        code = self.wait()
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else "?"
            return f"the worker process was killed by signal {name} ({-code})"
        return f"the worker process exited with code {code}"

    def output_tail(self) -> str:
        self.log.seek(0)
        data = self.log.read().decode("utf-8", "replace")
        return data[-_TAIL:]

    def close(self) -> None:
        self.kill()
        self.wait()
        self._guard.close()
        self._selector.close()
        os.close(self._fd)
        self.log.close()


def _payload(job: WorkerJob, cases: Sequence[tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    return {
        "benchmark": job.benchmark,
        "source": job.source,
        "cases": [[i, dict(p)] for i, p in cases],
        "protocol": dict(job.protocol),
        "platform": job.platform,
        "sys_path": list(job.sys_path),
        "profiling": dict(job.profiling),
        "metrics": [dict(m) for m in job.metrics],
        "output_checks": [dict(c) for c in job.output_checks],
        "calibrated_peaks": job.calibrated_peaks,
    }


def _failed(job: WorkerJob, params: Mapping[str, Any], status: CaseStatus, error: str, started: str) -> CaseResult:
    return CaseResult(job.benchmark, dict(params), status, error=error, started_at=started)


def _with_output(reason: str, worker: _Worker) -> str:
    tail = worker.output_tail().strip()
    return f"{reason}\n--- worker output (last {_TAIL} characters) ---\n{tail}" if tail else reason


def run_isolated(job: WorkerJob) -> Iterator[tuple[int, CaseResult]]:
    """Yield ``(index, result)`` for every case of ``job``, in order, whatever happens.

    Raises:
        HardwareUnavailableError: the worker could not start the hardware target.
    """
    pending = list(job.cases)
    while pending:
        worker = _Worker(_payload(job, pending), job.server)
        try:
            yield from _drain(job, worker, pending)
        finally:
            worker.close()


def _drain(job: WorkerJob, worker: _Worker, pending: list[tuple[int, Mapping[str, Any]]]) -> Iterator[tuple[int, CaseResult]]:
    """Read one worker's events until it finishes, dies or a case times out."""
    params_of = dict(pending)
    current: int | None = None
    started = utc_now()
    timeout = job.start_timeout
    while True:
        try:
            event = worker.next_event(timeout)
        except _WorkerGone:
            reason = worker.exit_reason()
            if current is None:
                yield from _fail_all(job, pending, f"{reason} before running any case.", worker)
            else:
                pending.remove((current, params_of[current]))
                msg = _with_output(f"Case crashed: {reason} while it ran.", worker)
                yield current, _failed(job, params_of[current], CaseStatus.CRASHED, msg, started)
            return
        if event is None:
            yield from _silent(job, worker, pending, current, started, timeout)
            return
        kind = event["event"]
        if kind == "fatal":
            if event.get("kind") == "hardware":
                raise HardwareUnavailableError(event["error"])
            yield from _fail_all(job, pending, f"Cannot load benchmark {job.benchmark!r}:\n{event['error']}", worker)
            return
        if kind == "hello":
            timeout = job.case_timeout
            if job.on_device is not None:
                job.on_device(event["device"])
        elif kind == "start":
            current, started = event["index"], utc_now()
        elif kind == "case":
            index = int(event["index"])
            pending.remove((index, params_of[index]))
            yield index, case_from_dict(event["case"])
            current = None
        elif kind == "done":
            return


def _silent(job: WorkerJob, worker: _Worker, pending: list[tuple[int, Mapping[str, Any]]], current: int | None,
            started: str, timeout: float) -> Iterator[tuple[int, CaseResult]]:
    """The worker said nothing for ``timeout`` s: kill it; the case it ran timed out, or, between
    cases, every pending case fails with why."""
    worker.kill()
    if current is None:
        msg = (
            f"The worker did not start within profile.worker_start_timeout={job.start_timeout} s."
            if timeout == job.start_timeout
            else f"The worker stopped answering for {timeout} s between cases."
        )
        yield from _fail_all(job, pending, msg, worker)
        return
    params = dict(pending)[current]
    pending.remove((current, params))
    msg = _with_output(
        f"Case timed out: still running after profile.case_timeout={job.case_timeout} s; the worker was killed.",
        worker,
    )
    yield current, _failed(job, params, CaseStatus.TIMEOUT, msg, started)


def _fail_all(job: WorkerJob, pending: list[tuple[int, Mapping[str, Any]]], reason: str, worker: _Worker) -> Iterator[tuple[int, CaseResult]]:
    message = _with_output(reason, worker)
    started = utc_now()
    while pending:
        index, params = pending.pop(0)
        yield index, _failed(job, params, CaseStatus.ERROR, message, started)
