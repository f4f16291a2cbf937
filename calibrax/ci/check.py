"""``calibrax check`` and ``ci=stored`` as one call: the gate against a named baseline, with
the baseline's history and margins overridden.

:func:`check_stored` compares a stored run with a named baseline as
:func:`calibrax.ci.guard.check_run` does, but each case whose baseline has a history (the last
``ci.history`` runs of the baseline run's git branch on its hardware fingerprint, up to the
baseline run itself and after the newest accepted shift) is judged on run medians, with the
spread between runs learnt from that history (:mod:`calibrax.analysis.run_noise`).
:func:`check_with_margins` builds the gate policy from the run's stored ``thresholds`` with the
given margins put over it, runs :func:`check_stored` (which stores the verdicts) and returns the
verdicts together with the run record they belong to, ready for a report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from calibrax.analysis.regression import GatePolicy, RunsByCase, compare_records
from calibrax.analysis.run_noise import RunLevel
from calibrax.ci.guard import CheckResult, policy_from_config
from calibrax.core.errors import ConfigError
from calibrax.core.models import RunInfo, RunStatus, Verdict, canonical_params
from calibrax.core.result import RunRecord
from calibrax.storage import Store

__all__ = ["DEFAULT_HISTORY_RUNS", "CheckedRun", "baseline_history", "check_stored", "check_with_margins",
           "history_runs_of", "noise_models", "policy_with_margins"]

DEFAULT_HISTORY_RUNS = 10
"""``ci.history``: how many runs of the baseline's branch make its history (0: none)."""


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


def history_runs_of(config: Mapping[str, Any], override: int | None = None) -> int:
    """``ci.history`` of a stored run config (``override`` wins), checked.

    Raises:
        ConfigError: not a whole number >= 0.

    Example:
        >>> history_runs_of({"ci": {"history": 5}}), history_runs_of({}), history_runs_of({}, 0)
        (5, 10, 0)
    """
    value = override if override is not None else (config.get("ci") or {}).get("history", DEFAULT_HISTORY_RUNS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"ci.history must be a whole number of runs >= 0 (0 turns history off), got {value!r}.")
    return value


def _history_ids(store: Store, baseline: RunInfo, exclude: str) -> list[str]:
    """The ids of the runs of the baseline's branch and fingerprint up to it, oldest first."""
    fingerprint = baseline.hardware.fingerprint if baseline.hardware else None
    accepted = [store.get_run(a.run_id).started_at for a in store.load_annotations(kind="accept")]
    since = max((t for t in accepted if t <= baseline.started_at), default="")
    chosen: list[str] = []
    for run in store.list_runs():  # newest first
        if (run.id == exclude or run.status not in (RunStatus.OK, RunStatus.FAILED) or run.started_at < since
                or run.started_at > baseline.started_at or run.git.branch != baseline.git.branch
                or (run.hardware.fingerprint if run.hardware else None) != fingerprint):
            continue
        chosen.append(run.id)
    return chosen[::-1]


def baseline_history(store: Store, baseline: RunRecord, policy: GatePolicy, runs: int, *,
                     exclude: str = "") -> RunsByCase:
    """Each gated case's history on the baseline side: run medians with their 95% CIs.

    A case's history is the last ``runs`` runs holding it (ok or failed runs; excluded runs and
    cases left out) on the baseline run's git branch and hardware fingerprint, that started no
    later than the baseline run (which is among them) and no earlier than the newest accepted
    shift before it.

    Args:
        store: the store to read.
        baseline: the baseline run.
        policy: names the gated measures of each benchmark.
        runs: how many runs at most (``ci.history``); 0 gives an empty history.
        exclude: a run id never taken into the history (the candidate).

    Example:
        found = baseline_history(store, store.load_run("r9"), GatePolicy(), 10)
        len(found[("matmul{\"n\": 64}", "time")])  # 10
    """
    ids = _history_ids(store, baseline.run, exclude) if runs > 0 else []
    if not ids:
        return {}
    wanted = set(ids)
    order = {rid: i for i, rid in enumerate(ids)}
    out: dict[tuple[str, str], list[tuple[int, RunLevel]]] = {}
    for bench in dict.fromkeys(c.benchmark for c in baseline.cases):
        for measure in policy.gated(bench):
            for row in store.history(bench, measure):
                if row["run_id"] in wanted and row["median"] is not None:
                    key = (f"{bench}{canonical_params(row['params'])}", measure)
                    out.setdefault(key, []).append(
                        (order[row["run_id"]], RunLevel(row["median"], row["ci_low"], row["ci_high"])))
    return {key: tuple(level for _, level in sorted(found, key=lambda x: x[0])[-runs:]) for key, found in out.items()}


def check_stored(store: Store, run_ref: str, baseline_name: str, policy: GatePolicy | None = None, *,
                 history: int | None = None, repeats: RunsByCase | None = None) -> CheckResult:
    """Compare a stored run with a named baseline and its history, store the verdicts, return them.

    Args:
        store: the store.
        run_ref: the candidate run (an id, a prefix or ``latest``).
        baseline_name: the named baseline.
        policy: the gate policy; default: the run's own stored ``thresholds``.
        history: how many runs make the baseline's history; default: the run's ``ci.history``
            (10 when it has none); 0 compares with the baseline run alone, as before.
        repeats: further runs of the candidate per case and measure (``ci.repeats``).

    Raises:
        NotFoundError: unknown run or baseline.
        ConfigError: a ``history`` that is not a whole number >= 0.

    Example:
        result = check_stored(store, "latest", "main")
        result.verdicts[0].details["noise_model"]  # 'history of 10 runs'
    """
    baseline = store.get_baseline(baseline_name)
    candidate = store.load_run(run_ref)
    reference = store.load_run(baseline.run_id)
    policy = policy or policy_from_config(candidate.run.config)
    runs = history_runs_of(candidate.run.config, history)
    past = baseline_history(store, reference, policy, runs, exclude=candidate.run.id)
    verdicts = compare_records(candidate, reference, policy, history=past, repeats=repeats)
    store.add_verdicts(candidate.run.id, reference.run.id, verdicts)
    return CheckResult(candidate.run.id, baseline_name, reference.run.id, tuple(verdicts))


def noise_models(verdicts: Sequence[Verdict]) -> str:
    """The noise models the verdicts used, with how many used each; empty when none names one.

    Example:
        >>> from calibrax.core.models import VerdictKind
        >>> v = Verdict("b", {}, "time", VerdictKind.PASS, 1.0, 1.0, 1.0, 0.05, "", details={"noise_model": "within-run only"})
        >>> noise_models([v, v])
        'noise model: within-run only (2 verdicts)'
    """
    counts = Counter(str(v.details["noise_model"]) for v in verdicts if "noise_model" in v.details)
    if not counts:
        return ""
    parts = [f"{model} ({n} verdict{'s' if n != 1 else ''})" for model, n in counts.items()]
    return "noise model: " + "; ".join(parts)


def check_with_margins(
    store: Store, run_ref: str, baseline_name: str, margins: Mapping[str, float] | None = None, *,
    history: int | None = None,
) -> CheckedRun:
    """Compare a stored run with a named baseline, store the verdicts and return them with the run.

    Without ``margins`` the run's own stored ``thresholds`` decide; with them, those margins
    replace the config's (see :func:`policy_with_margins`). ``history`` overrides the run's
    ``ci.history`` (see :func:`check_stored`).

    Raises:
        NotFoundError: unknown run or baseline.
        ConfigError: a margin, a stored threshold or a history that is not valid.

    Example:
        checked = check_with_margins(store, "latest", "main", {"time": 0.1})
        checked.result.regressions  # [] when nothing got slower beyond 10%
    """
    policy = policy_with_margins(store.get_run(run_ref).config, margins) if margins else None
    result = check_stored(store, run_ref, baseline_name, policy, history=history)
    record = replace(store.load_run(result.run_id), verdicts=result.verdicts,
                     baseline={"name": result.baseline_name, "run_id": result.baseline_run_id})
    return CheckedRun(result, record)
