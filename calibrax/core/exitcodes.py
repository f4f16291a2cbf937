"""The exit codes of ``calibrax-run`` and ``calibrax``, defined once.

Both scripts return one of these; when several apply (a sweep, a run with a failed case and a
regression), the strongest wins in the order usage > benchmark failed > regression > ok.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

__all__ = ["ExitCode", "combine_exit_codes"]


class ExitCode(IntEnum):
    """What a process exit code means."""

    OK = 0  # every case ran and nothing regressed
    REGRESSION = 1  # a regression, a threshold violation or a gating validation violation
    USAGE = 2  # a usage or config error: nothing was measured
    BENCHMARK_FAILED = 3  # a case failed; its error is stored and the other cases still ran


_PRECEDENCE = (ExitCode.USAGE, ExitCode.BENCHMARK_FAILED, ExitCode.REGRESSION)


def combine_exit_codes(codes: Iterable[int]) -> int:
    """The exit code of several runs (the jobs of a sweep): the strongest one.

    Example:
        >>> combine_exit_codes([0, 1, 3])
        3
        >>> combine_exit_codes([])
        0
    """
    seen = set(codes)
    for code in _PRECEDENCE:
        if code in seen:
            return int(code)
    return int(ExitCode.OK)
