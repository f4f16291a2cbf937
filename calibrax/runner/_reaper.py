"""No orphans: a worker dies with ``calibrax-run``, and so does everything the benchmark started.

Two mechanisms, neither needing the worker's GIL (a benchmark stuck in C code holds it):

- On Linux the worker asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``, set between fork and exec).
- A guard process leads the worker's process group. It blocks reading a pipe whose only writer
  is ``calibrax-run``; when that process goes, even by SIGKILL, the read returns end-of-file and
  the guard kills its whole group: the worker and the processes the benchmark started. The
  guard has no death signal of its own, which could kill it before it read that end-of-file.

A process that leaves the group on purpose (``setsid``, a daemon) is beyond the guard's reach.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Guard", "die_with_parent"]

_PR_SET_PDEATHSIG = 1

# Runs with -I -S: no site, no calibrax import; reads until EOF, then kills its own group.
_GUARD_CODE = "import os, signal, sys\nfd = int(sys.argv[1])\nwhile os.read(fd, 512):\n    pass\nos.killpg(0, signal.SIGKILL)\n"


@functools.lru_cache(maxsize=1)
def _prctl() -> Any:
    """libc's ``prctl``, loaded once in the parent (never between fork and exec); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    function.restype = ctypes.c_int
    return function


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel SIGKILL the child when this process dies; None
    where ``prctl`` is missing (not Linux).

    It only calls the ``prctl`` loaded beforehand and reads the parent's pid, so it is safe
    in a parent that runs threads. The kernel ties the signal to the thread that forks: call
    ``subprocess.Popen`` from a thread that outlives the child (the main thread).

    Example:
        >>> proc = subprocess.Popen(["true"], preexec_fn=die_with_parent())
        >>> proc.wait()
        0
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return preexec


class Guard:
    """A guard process leading a new process group; start the processes it guards in
    ``process_group=guard.pgid``. The group is killed when :meth:`close` is called or when
    this process dies.

    Example:
        >>> guard = Guard()
        >>> child = subprocess.Popen(["sleep", "30"], process_group=guard.pgid)
        >>> guard.close()
        >>> child.wait()
        -9
    """

    def __init__(self) -> None:
        read_fd, self._write_fd = os.pipe()  # both ends close on exec: this process is the only writer
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _GUARD_CODE, str(read_fd)],
                pass_fds=(read_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                process_group=0,
            )
        except BaseException:
            os.close(self._write_fd)
            raise
        finally:
            os.close(read_fd)
        self.pgid = self.proc.pid

    def kill_group(self) -> None:
        """SIGKILL every process of the group, the guard included."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)

    def close(self) -> None:
        """Kill the group, reap the guard and close the pipe; calling it again does nothing."""
        if self._write_fd < 0:
            return
        self.kill_group()
        self.proc.wait()
        os.close(self._write_fd)
        self._write_fd = -1
