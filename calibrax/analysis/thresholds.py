"""Absolute bounds on measures (``thresholds: {accuracy: {min: 0.9}}``): they gate without a baseline."""

from __future__ import annotations

from collections.abc import Sequence

from calibrax.analysis.regression import GatePolicy, Pair, judge
from calibrax.core.models import CaseResult, CaseStatus, Verdict

__all__ = ["threshold_verdicts"]


def threshold_verdicts(cases: Sequence[CaseResult], policy: GatePolicy) -> list[Verdict]:
    """Verdicts of every absolute bound (``min``/``max``) on the measured cases; no baseline needed.

    Example:
        >>> from calibrax.core.models import CaseResult, CaseStatus
        >>> threshold_verdicts([CaseResult("b", {}, CaseStatus.OK)], GatePolicy())
        []
    """
    pairs = []
    for case in cases:
        if case.status is not CaseStatus.OK:
            continue
        for name in policy.gated(case.benchmark):
            rule = policy.rule(case.benchmark, name)
            if rule.rule == "absolute" and (rule.min is not None or rule.max is not None) and name in case.measures:
                m = case.measures[name]
                pairs.append(Pair(case.benchmark, case.params, m.measure, None, tuple(m.samples) or None))
    return judge(pairs, policy) if pairs else []
