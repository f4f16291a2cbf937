"""``calibrax check`` as one call: the gate against a named baseline, with margins overridden.

:func:`check_with_margins` builds the gate policy from the run's stored ``thresholds`` with the
given margins put over it, runs :func:`calibrax.ci.guard.check_run` (which stores the verdicts)
and returns the verdicts together with the run record they belong to, ready for a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from calibrax.analysis.regression import GatePolicy
from calibrax.ci.guard import CheckResult, check_run, policy_from_config
from calibrax.core.result import RunRecord
from calibrax.storage import Store

__all__ = ["CheckedRun", "check_with_margins", "policy_with_margins"]


@dataclass(frozen=True)
class CheckedRun:
    """A run checked against a baseline: the verdicts, and the run record that carries them."""

    result: CheckResult  # the verdicts, their counts and the baseline they compared with
    record: RunRecord  # the checked run with ``verdicts`` and ``baseline`` (name, run_id) filled in


def policy_with_margins(config: Mapping[str, Any], margins: Mapping[str, float]) -> GatePolicy:
    """The gate policy of a stored run config with the practical margin of some measures replaced.

    Each measure's other settings (alpha, rule, ...) stay as the config has them; a measure the
    config does not name gets the default rule with the given margin.

    Raises:
        ConfigError: a margin, alpha or rule that is not valid (a negative margin, say).

    Example:
        >>> config = {"thresholds": {"measures": {"time": {"margin": 0.05, "alpha": 0.01}}}}
        >>> rule = policy_with_margins(config, {"time": 0.2}).rule("matmul", "time")
        >>> rule.margin, rule.alpha
        (0.2, 0.01)
    """
    thresholds = dict(config.get("thresholds") or {})
    measures = {k: dict(v or {}) for k, v in (thresholds.get("measures") or {}).items()}
    for measure, margin in margins.items():
        measures[measure] = {**measures.get(measure, {}), "margin": margin}
    return policy_from_config({"thresholds": {**thresholds, "measures": measures}})


def check_with_margins(
    store: Store, run_ref: str, baseline_name: str, margins: Mapping[str, float] | None = None
) -> CheckedRun:
    """Compare a stored run with a named baseline, store the verdicts and return them with the run.

    Without ``margins`` the run's own stored ``thresholds`` decide; with them, those margins
    replace the config's (see :func:`policy_with_margins`).

    Raises:
        NotFoundError: unknown run or baseline.
        ConfigError: a margin or a stored threshold that is not valid.

    Example:
        checked = check_with_margins(store, "latest", "main", {"time": 0.1})
        checked.result.regressions  # [] when nothing got slower beyond 10%
    """
    policy = policy_with_margins(store.get_run(run_ref).config, margins) if margins else None
    result = check_run(store, run_ref, baseline_name, policy)
    record = replace(store.load_run(result.run_id), verdicts=result.verdicts,
                     baseline={"name": result.baseline_name, "run_id": result.baseline_run_id})
    return CheckedRun(result, record)
