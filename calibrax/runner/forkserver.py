"""A fork server per side of a comparison: trials that skip the interpreter and JAX imports.

``python -m calibrax.runner.forkserver FD`` puts a folder first on ``sys.path``, imports the
worker's modules (JAX among them) and the benchmarks' sources, checks that no JAX backend has
started, and then forks one trial per request on the Unix socket FD. Each trial is a fresh
process with its own backend start, compile and memory layout, exactly as a worker started by
``python -m calibrax.runner._worker``; it only skips the imports. A source that starts a JAX
backend when imported would leak that backend into every fork: the server then refuses
(``ready: false``) and the caller starts plain workers.

The caller keeps :mod:`calibrax.runner.isolation`'s guarantees: the trial joins the process
group of a guard the caller made for it (so a timeout kills it whole, and it dies with the
caller), and the kernel kills it if the server goes. The server itself runs under a guard of
its own and dies with the caller.

Protocol: requests are a 4-byte length and a JSON object ``{"pgid", "job"}`` sent with two file
descriptors (the trial's event pipe and its output file); replies are JSON lines
``{"ready": bool, "reason"}`` once, ``{"pid"}`` per request and ``{"exit", "code"}`` when a
trial ends (``code`` as ``subprocess`` gives it: negative for a signal).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from calibrax.runner._reaper import Guard, die_with_parent

__all__ = ["ForkServer", "ForkServerUnavailable"]

_HEADER = struct.Struct("!I")


class ForkServerUnavailable(Exception):
    """The server could not start or refused to serve (its reason is the message)."""


class ForkServer:
    """A running fork server for one folder: :meth:`fork` starts a trial, :meth:`wait` gives
    its exit code. Use it as a context manager so it is stopped on every exit path.

    Raises:
        ForkServerUnavailable: with ``wait`` (the default), the server did not become ready
            within ``start_timeout`` or refused (see :meth:`wait_ready`).

    Example:
        >>> with ForkServer(["."], [], start_timeout=120) as server:  # doctest: +SKIP
        ...     pid = server.fork(job, event_fd, log_fd, guard.pgid)
    """

    def __init__(self, sys_path: Sequence[str], sources: Sequence[str], start_timeout: float, *,
                 wait: bool = True) -> None:
        self._guard = Guard()
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._log = tempfile.TemporaryFile()
        self._buffer = b""
        self._exits: dict[int, int] = {}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "calibrax.runner.forkserver", str(theirs.fileno())],
                stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),),
                process_group=self._guard.pgid, preexec_fn=die_with_parent(),
            )
            theirs.close()
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"sys_path": list(sys_path), "sources": list(sources)}).encode())
            self.proc.stdin.close()
        except BaseException:
            self.close()
            raise
        self._start_timeout = start_timeout
        self._ready = False
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the server has done its imports (servers started with ``wait=False`` import
        side by side).

        Raises:
            ForkServerUnavailable: it refused, died or did not answer within ``start_timeout``;
                the server is stopped.
        """
        if self._ready:
            return
        hello = self._message(self._start_timeout)
        if hello is None or not hello.get("ready"):
            self.close()
            reason = hello.get("reason") if hello else f"no answer within {self._start_timeout} s"
            raise ForkServerUnavailable(str(reason))
        self._ready = True

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _message(self, timeout: float | None) -> dict[str, Any] | None:
        """The next reply line, or None on timeout or when the server is gone."""
        self._sock.settimeout(timeout)
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(65536)
            except (TimeoutError, OSError):
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def fork(self, job: dict[str, Any], event_fd: int, log_fd: int, pgid: int) -> int:
        """Start one trial running ``job`` in process group ``pgid``; its pid.

        Raises:
            ForkServerUnavailable: the server is gone.
        """
        self.wait_ready()
        data = json.dumps({"pgid": pgid, "job": job}).encode()
        try:
            socket.send_fds(self._sock, [_HEADER.pack(len(data)) + data], [event_fd, log_fd])
        except OSError as exc:
            raise ForkServerUnavailable(f"the fork server is gone ({exc})") from None
        while True:
            reply = self._message(None)
            if reply is None:
                raise ForkServerUnavailable("the fork server is gone")
            if "pid" in reply:
                return int(reply["pid"])
            self._exits[int(reply["exit"])] = int(reply["code"])

    def wait(self, pid: int) -> int:
        """The exit code of trial ``pid`` once it has ended (-9 when the server went first)."""
        while pid not in self._exits:
            reply = self._message(None)
            if reply is None:
                return -signal.SIGKILL
            if "exit" in reply:
                self._exits[int(reply["exit"])] = int(reply["code"])
        return self._exits.pop(pid)

    def close(self) -> None:
        """Stop the server (its guard kills it); calling it again does nothing."""
        self._guard.close()
        if hasattr(self, "proc"):
            self.proc.wait()
        self._sock.close()
        self._log.close()


def _code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _prepare(config: dict[str, Any]) -> str | None:
    """Import what every trial needs; the reason the server cannot serve, or None."""
    for entry in reversed(config.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    import calibrax.runner._worker  # noqa: F401  (JAX, the timing code, the profilers)
    from calibrax.runner.execute import _import_source

    for source in config.get("sources", []):
        with contextlib.suppress(Exception):  # a broken source fails in the trial, with its traceback
            _import_source(source)
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        return "a benchmark source starts a JAX backend when imported; trials start plain workers instead"
    return None


def _trial(sock: socket.socket, pgid: int, job: dict[str, Any], event_fd: int, log_fd: int) -> None:
    """In the forked child: join the caller's guard group, die with the server, run the job."""
    from calibrax.runner import _reaper, _worker

    with contextlib.suppress(OSError):
        os.setpgid(0, pgid)
    sock.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    prctl = _reaper._prctl()
    if prctl is not None:
        prctl(_reaper._PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    code = 0
    try:
        _worker._exit_with_parent()
        with os.fdopen(event_fd, "w", buffering=1, encoding="utf-8") as channel:
            _worker.serve(job, channel)
    except BaseException:  # noqa: BLE001  (reported through the output, as a worker's would be)
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _request(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    data, fds, _, _ = socket.recv_fds(sock, 65536, 2)
    if not data:
        return None
    (size,) = _HEADER.unpack(data[: _HEADER.size])
    body = data[_HEADER.size:]
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body), list(fds)


def _send(sock: socket.socket, **message: Any) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def serve(sock: socket.socket) -> None:
    """Fork a trial per request and report each one's exit, until the caller hangs up."""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    children: set[int] = set()
    while True:
        ready = selector.select(0.05 if children else None)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                _send(sock, exit=pid, code=_code(status))
        if not ready:
            continue
        request = _request(sock)
        if request is None:
            return
        message, fds = request
        pid = os.fork()
        if pid == 0:
            _trial(sock, int(message["pgid"]), message["job"], fds[0], fds[1])
        with contextlib.suppress(OSError):  # both sides set the group: no window where it is unset
            os.setpgid(pid, int(message["pgid"]))
        for fd in fds:
            os.close(fd)
        children.add(pid)
        _send(sock, pid=pid)


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    reason = _prepare(json.load(sys.stdin))
    _send(sock, ready=reason is None, reason=reason)
    if reason is None:
        serve(sock)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
