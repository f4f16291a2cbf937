"""ci: the gate that turns a run and a baseline into verdicts (output layer)."""

from calibrax.ci.guard import CheckResult, check_run, policy_from_config, summary_lines

__all__ = ["CheckResult", "check_run", "policy_from_config", "summary_lines"]
