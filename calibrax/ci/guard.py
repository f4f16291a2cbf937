"""The CI gate against a stored baseline (``ci=stored`` and ``calibrax check``).

Verdicts come from :mod:`calibrax.analysis.regression`: significant (Mann-Whitney, then
Benjamini-Hochberg across the suite) and beyond the practical margin by its bootstrap CI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibrax.analysis.regression import GatePolicy, compare_records
from calibrax.core.models import Verdict, VerdictKind
from calibrax.storage import Store

__all__ = ["CheckResult", "check_run", "policy_from_config", "summary_lines"]


@dataclass(frozen=True)
class CheckResult:
    """Verdicts of one run against one baseline."""

    run_id: str
    baseline_name: str
    baseline_run_id: str
    verdicts: tuple[Verdict, ...]

    @property
    def regressions(self) -> list[Verdict]:
        """The verdicts that fail the gate."""
        return [v for v in self.verdicts if v.failed]

    @property
    def counts(self) -> dict[str, int]:
        """Number of verdicts of each kind, every kind listed."""
        out = {k.value: 0 for k in VerdictKind}
        for v in self.verdicts:
            out[v.kind.value] += 1
        return out


def policy_from_config(config: Mapping[str, Any]) -> GatePolicy:
    """The gate policy of a (stored) run config: its ``thresholds`` node.

    Raises:
        ConfigError: a margin, alpha or rule that is not valid.
    """
    return GatePolicy.from_config(config.get("thresholds") or {})


def check_run(store: Store, run_ref: str, baseline_name: str, policy: GatePolicy | None = None) -> CheckResult:
    """Compare a stored run with a named baseline, store the verdicts and return them.

    Without ``policy``, the run's own stored ``thresholds`` config is used.

    Raises:
        NotFoundError: unknown run or baseline.
    """
    baseline = store.get_baseline(baseline_name)
    candidate = store.load_run(run_ref)
    reference = store.load_run(baseline.run_id)
    policy = policy or policy_from_config(candidate.run.config)
    verdicts = compare_records(candidate, reference, policy)
    store.add_verdicts(candidate.run.id, reference.run.id, verdicts)
    return CheckResult(candidate.run.id, baseline_name, reference.run.id, tuple(verdicts))


def summary_lines(result: CheckResult) -> Sequence[str]:
    """One line per regression, then the counts: the text the CLI prints."""
    lines = [f"REGRESSED {v.benchmark} {dict(v.params)} {v.measure}: {v.message}" for v in result.regressions]
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
    against = (f"against baseline {result.baseline_name!r} ({result.baseline_run_id})" if result.baseline_run_id
               else "against its absolute thresholds")
    lines.append(f"{result.run_id} {against}: {counts or 'nothing to compare'}")
    return lines
