"""What an interleaved gate measured, kept as evidence beside its verdicts.

The baseline side's trial values (each trial's best or median round, ``ci.trial_statistic``)
become a run of their own (the baseline commit, one sample per trial), linked to the candidate
run; every trial value of both sides is stored at its place in the gate's order of trials, so
the report can draw them in the order measured.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from calibrax.ci import CaseRef, InterleavedResult
from calibrax.core.models import CaseResult, CaseStatus, GitInfo, MeasureResult, RunInfo, RunStatus
from calibrax.runner.execute import utc_now
from calibrax.statistics import summarize
from calibrax.storage import Store, TrialValue

__all__ = ["INTERLEAVED_KEY", "record_interleaved", "trial_values"]

INTERLEAVED_KEY = "interleaved"
"""The key of the linked baseline run's config that says which gate it holds the baseline of."""


def trial_values(result: InterleavedResult) -> list[TrialValue]:
    """Every trial value of ``result`` at its position in the gate's order of trials.

    A case is measured in every trial until it is decided, so its n-th baseline median belongs
    to the n-th baseline trial it took part in.

    Example:
        >>> r = InterleavedResult((), {"k": {"time": {"A": (1.0, 1.1), "B": (2.0, 2.1)}}}, ("A", "B", "B", "A"))
        >>> [(t.position, t.arm, t.value) for t in trial_values(r)]
        [(1, 'A', 1.0), (2, 'B', 2.0), (3, 'B', 2.1), (4, 'A', 1.1)]
    """
    out = []
    for key, measures in result.trials.items():
        for name, arms in measures.items():
            taken = {"A": 0, "B": 0}
            for position, arm in enumerate(result.order, start=1):
                values = arms.get(arm, ())
                if taken[arm] < len(values):
                    out.append(TrialValue(key, name, position, arm, float(values[taken[arm]])))
                    taken[arm] += 1
    return out


def _baseline_cases(refs: Sequence[CaseRef], result: InterleavedResult, started_at: str) -> list[CaseResult]:
    """The baseline side's cases: each gated measure's samples are its per-trial values."""
    cases = []
    for ref in refs:
        measures = {}
        for m in ref.measures:
            values = tuple(float(v) for v in result.trials.get(ref.key, {}).get(m.name, {}).get("A", ()))
            if values:
                measures[m.name] = MeasureResult(m, values, summarize(values),
                                                 {"mode": f"interleaved trial values ({result.statistic.label})",
                                                  "trials": len(values)})
        if measures:
            cases.append(CaseResult(ref.benchmark, dict(ref.params), CaseStatus.OK, measures, started_at=started_at))
        else:
            cases.append(CaseResult(ref.benchmark, dict(ref.params), CaseStatus.SKIPPED, {}, started_at=started_at,
                                    error="no trial of the baseline commit measured this case"))
    return cases


def record_interleaved(store: Store, candidate: str, ref: str, sha: str, refs: Sequence[CaseRef],
                       result: InterleavedResult, started_at: str,
                       settings: Mapping[str, Any] | None = None) -> str:
    """Store the gate's baseline side as a run linked to ``candidate``, and both sides' trial
    medians under ``candidate``; return the baseline run's id.

    Args:
        store: the open store holding the candidate run.
        candidate: the candidate run's id.
        ref, sha: the git ref the gate compared with and the commit it resolved to.
        refs: the gated cases (:func:`calibrax.runner.interleaved.case_refs`).
        result: what the gate measured.
        started_at: when the gate's first trial began (ISO-8601, UTC).
        settings: the gate's settings (trials, max_trials), stored in the baseline run's config.

    Example:
        baseline_id = record_interleaved(store, "r2", "main", sha, refs, result, utc_now(), {"trials": 10})
    """
    run = store.get_run(candidate)
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    config = {**dict(run.config), INTERLEAVED_KEY: {
        "role": "baseline", "candidate": candidate, "ref": ref, "commit": sha,
        "order": "".join(result.order), **dict(settings or {})}}
    # no sweep id: the linked run is not a job of the candidate's sweep (nor what resuming it finds)
    store.begin_run(RunInfo(run_id, started_at, RunStatus.RUNNING, GitInfo(sha, ref, False), run.hardware, config,
                            run.overrides), interleaved_of=candidate)
    cases = _baseline_cases(refs, result, started_at)
    for case in cases:
        store.add_case(run_id, case)
    store.add_trials(candidate, trial_values(result))
    status = RunStatus.OK if all(c.status is CaseStatus.OK for c in cases) else RunStatus.FAILED
    store.finish_run(run_id, status, utc_now())
    return run_id
