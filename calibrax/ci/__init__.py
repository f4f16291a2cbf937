"""ci: the gate that turns a run and a baseline into verdicts (output layer)."""

from calibrax.ci.bisection import BisectResult, BisectStep, bisect, worst
from calibrax.ci.guard import CheckResult, check_run, policy_from_config, summary_lines
from calibrax.ci.interleaved import CaseRef, InterleavedResult, abba_order, run_interleaved

__all__ = [
    "BisectResult",
    "BisectStep",
    "CaseRef",
    "CheckResult",
    "InterleavedResult",
    "abba_order",
    "bisect",
    "check_run",
    "policy_from_config",
    "run_interleaved",
    "summary_lines",
    "worst",
]
