"""The interleaved gate: baseline and candidate re-measured side by side, in ABBA order.

On a shared machine, timings drift between runs by more than the effects worth catching. The
interleaved gate measures both sides in the same job, alternating A B B A so that drift hits
both equally; each trial is a fresh worker process, so the unit of the test (one median per
trial) carries the process-to-process variation too. Cases still inconclusive after
``trials`` per side get more ABBA blocks, up to ``max_trials`` per side.

The measuring itself is supplied by the caller (the runner), so this module only schedules
trials and judges them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from calibrax.analysis.regression import GatePolicy, Pair, judge
from calibrax.core.errors import ConfigError
from calibrax.core.models import Measure, Verdict, VerdictKind

__all__ = ["Arm", "CaseRef", "InterleavedResult", "abba_order", "run_interleaved"]

Arm = Literal["A", "B"]
TrialFn = Callable[[Arm, Sequence["CaseRef"]], Mapping[str, Mapping[str, float]]]
"""``measure(arm, cases)`` runs one trial of ``cases`` on one side and returns, per case key,
measure name -> the trial's median; a case that failed is left out."""

_UNDECIDED = (VerdictKind.INCONCLUSIVE, VerdictKind.UNSTABLE)


@dataclass(frozen=True)
class CaseRef:
    """A case to compare: its benchmark, params and the measures judged on it."""

    key: str
    benchmark: str
    params: Mapping[str, Any]
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class InterleavedResult:
    """Verdicts with the per-trial medians they came from."""

    verdicts: tuple[Verdict, ...]
    trials: Mapping[str, Mapping[str, Mapping[Arm, tuple[float, ...]]]] = field(default_factory=dict)
    order: tuple[Arm, ...] = ()


def abba_order(pairs: int) -> list[Arm]:
    """Trial order for ``pairs`` trials per side: A B B A A B B A ...

    Example:
        >>> "".join(abba_order(3))
        'ABBAAB'
    """
    out: list[Arm] = []
    while len(out) < 2 * pairs:
        out.extend(["A", "B", "B", "A"])
    return out[: 2 * pairs]


def _judge(cases: Sequence[CaseRef], samples: Mapping[str, Mapping[str, dict[Arm, list[float]]]],
           policy: GatePolicy) -> list[Verdict]:
    pairs = []
    for case in cases:
        for m in case.measures:
            got = samples.get(case.key, {}).get(m.name, {"A": [], "B": []})
            # Trial medians are independent units: the test and CI weigh their spread in full.
            pairs.append(Pair(case.benchmark, case.params, m, tuple(got["A"]) or None, tuple(got["B"]) or None,
                              noise=0.0))
    return judge(pairs, policy)


def run_interleaved(measure: TrialFn, cases: Sequence[CaseRef], policy: GatePolicy, *, trials: int = 10,
                    max_trials: int = 30, on_trial: Callable[[Arm, int], None] | None = None) -> InterleavedResult:
    """Measure A (baseline) and B (candidate) in ABBA order and judge every case.

    Args:
        measure: runs one trial of some cases on one side (a fresh process each time).
        cases: the cases to compare and the measures judged on each.
        policy: margins, alpha and the suite-level FDR.
        trials: trials per side before the first verdict (a rank test needs at least 5).
        max_trials: trials per side at most; undecided cases get ABBA blocks until then.
        on_trial: called after each trial with the side and the trial's number (progress).

    Raises:
        ConfigError: ``trials`` below 5 or above ``max_trials``.
    """
    if not 5 <= trials <= max_trials:
        raise ConfigError(f"ci.trials must be at least 5 and at most ci.max_trials ({max_trials}), got {trials}.")
    samples: dict[str, dict[str, dict[Arm, list[float]]]] = {}
    order: list[Arm] = []
    todo, done = list(cases), 0
    while todo:
        block = abba_order(trials if done == 0 else 2)
        for arm in block:
            for key, medians in measure(arm, todo).items():
                for name, value in medians.items():
                    samples.setdefault(key, {}).setdefault(name, {"A": [], "B": []})[arm].append(value)
            order.append(arm)
            if on_trial is not None:
                on_trial(arm, len(order))
        done += len(block) // 2
        by_case = _group(todo, _judge(todo, samples, policy))
        if done >= max_trials:
            break
        todo = [c for c in todo if any(v.kind in _UNDECIDED for v in by_case[c.key])]
    final = _judge(cases, samples, policy)  # one suite-wide BH over every case's final samples
    frozen = {k: {m: {a: tuple(v) for a, v in arms.items()} for m, arms in ms.items()} for k, ms in samples.items()}
    return InterleavedResult(tuple(final), frozen, tuple(order))


def _group(cases: Sequence[CaseRef], verdicts: Sequence[Verdict]) -> dict[str, list[Verdict]]:
    out: dict[str, list[Verdict]] = {c.key: [] for c in cases}
    i = 0
    for case in cases:
        for _ in case.measures:
            out[case.key].append(verdicts[i])
            i += 1
    return out
