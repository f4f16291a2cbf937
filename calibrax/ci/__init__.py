"""ci: the gate that turns a run and a baseline into verdicts (output layer)."""

from calibrax.ci.guard import CheckResult, Thresholds, check_run, compare_records, summary_lines

__all__ = ["CheckResult", "Thresholds", "check_run", "compare_records", "summary_lines"]
