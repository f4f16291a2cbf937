"""Stage 4 of a run, judge: validation checks, the CI gate, and the exit code.

The verdict logic lives below the runner (``calibrax.validation``, ``calibrax.analysis``,
``calibrax.ci``); this stage only picks the baseline ``ci.mode`` names, stores what was judged
and derives the exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from calibrax.analysis import threshold_verdicts
from calibrax.ci import CheckResult, check_stored, noise_models
from calibrax.core.exitcodes import ExitCode
from calibrax.core.models import CaseResult, CaseStatus
from calibrax.runner.config import CIMode
from calibrax.runner.context import RunContext
from calibrax.runner.evidence import record_interleaved
from calibrax.runner.execute import utc_now
from calibrax.runner.interleaved import TrialSettings, case_refs, interleaved_gate
from calibrax.runner.plan import protocol_settings
from calibrax.runner.repeats import measure_repeats
from calibrax.validation import ValidationReport, gating_violations, judge_validation

__all__ = ["exit_code_for", "gate", "validate"]

log = logging.getLogger("calibrax")


def validate(ctx: RunContext, cases: Sequence[CaseResult],
             worker_entries: Mapping[int, Sequence[Mapping[str, Any]]]) -> ValidationReport | None:
    """Run the validation checks the benchmarks declare, store the report and log its violations."""
    specs = {b.name: b.validation for b in ctx.planned if b.validation is not None}
    report = judge_validation(ctx.run_id, specs, cases, worker_entries)
    if report is None:
        return None
    if report.entries:
        ctx.store.add_validation(ctx.run_id, report.entries, gate=report.gate)
    for entry in report.violations:
        log.warning("Validation: %s", entry.message)
    return report


def gate(ctx: RunContext, cases: Sequence[CaseResult]) -> CheckResult | None:
    """The run's verdicts: against the baseline of ``ci.mode``, and absolute bounds (quality
    thresholds such as ``accuracy: {min: 0.9}``), which gate even without a baseline.

    With ``ci=interleaved`` the trials' evidence is stored too (the baseline side as a run linked
    to this one, see :func:`~calibrax.runner.evidence.record_interleaved`; the verdicts name that
    run), and the run's finish time moves to the end of the trials."""
    ci = ctx.cfg.ci
    bounds = threshold_verdicts(cases, ctx.policy)
    if ci.mode is CIMode.stored:
        assert ci.baseline is not None  # checked before anything ran
        repeats = measure_repeats(ctx.cfg, str(ctx.cwd), ctx.planned, ctx.policy, ci.repeats) if ci.repeats > 1 else None
        check = check_stored(ctx.store, ctx.run_id, ci.baseline, ctx.policy, history=ci.history,
                             repeats=repeats)  # its verdicts include the bounds
        if noise_models(check.verdicts):
            log.info("Stored gate %s", noise_models(check.verdicts))
        return check
    if ci.mode is CIMode.none:
        if not bounds:
            return None
        ctx.store.add_verdicts(ctx.run_id, "", bounds)
        return CheckResult(ctx.run_id, "thresholds", "", tuple(bounds))
    profile = ctx.cfg.profile
    settings = TrialSettings(protocol_settings(profile), ctx.cfg.hardware.platform, profile.case_timeout,
                             profile.worker_start_timeout, ci.trial_statistic)
    assert ci.ref is not None  # checked before anything ran
    planned = [(b.name, b.cases) for b in ctx.planned]
    started = utc_now()
    check, result = interleaved_gate(ci.ref, ci.trials, ci.max_trials, ctx.cwd, ctx.run_id,
                                     planned, ctx.policy, settings)
    if result.order:  # the trials' evidence: the baseline side as a linked run, both sides' trial values
        sha = check.baseline_run_id.removeprefix("git:")
        linked = record_interleaved(ctx.store, ctx.run_id, ci.ref, sha, case_refs(planned, ctx.policy), result,
                                    started, {"trials": ci.trials, "max_trials": ci.max_trials,
                                              "trial_statistic": ci.trial_statistic.value})
        check = replace(check, baseline_run_id=linked)
    check = replace(check, verdicts=(*check.verdicts, *bounds))
    ctx.store.add_verdicts(ctx.run_id, check.baseline_run_id, check.verdicts)
    ctx.store.finish_run(ctx.run_id, ctx.store.get_run(ctx.run_id).status, utc_now())  # the trials took part
    return check


def exit_code_for(cases: Sequence[CaseResult], check: CheckResult | None,
                  validation: ValidationReport | None = None) -> int:
    """3 when a case did not end ok, else 1 on a regression or a violation of a gating
    validation check, else 0."""
    if any(c.status is not CaseStatus.OK for c in cases):
        return ExitCode.BENCHMARK_FAILED
    if check is not None and check.regressions:
        return ExitCode.REGRESSION
    if validation is not None and gating_violations(validation.entries):
        return ExitCode.REGRESSION
    return ExitCode.OK
