"""The interleaved gate: baseline and candidate re-measured side by side, in ABBA order.

On a shared machine, timings drift between runs by more than the effects worth catching. The
interleaved gate measures both sides in the same job, alternating A B B A so that drift hits
both equally; each trial is a fresh worker process, so the unit of the test (one value per
trial) carries the process-to-process variation too.

A trial's value is its best round by default (``TrialStatistic.best``: the minimum time, the
maximum of a higher-is-better measure). Interference from the rest of a shared machine only adds
time, so the best round is the steadiest estimate of what the code itself costs (Chen & Revels
2016, "Robust benchmarking in noisy environments"); on a 2-core machine under load the trial
medians of one unchanged benchmark were bimodal where the trial minima were not. ``median``
judges a change that shows in the typical round rather than the best one.

The design is group-sequential: after ``trials`` per side, and again after every further ABBA
block, each undecided case is judged by repeated confidence intervals for the ratio of its trial
values (:mod:`calibrax.ci.sequential`: an exact group-sequential sign test with Yuen's trimmed
t beside it, Jennison & Turnbull 2000) that hold at every look of the planned schedule at once.
A case stops as soon as they rule out a regression beyond the margin (pass), show one
(regressed) or show an improvement; only cases still undecided after ``max_trials`` per side
are inconclusive.
Stopping early keeps both error rates: a false ``regressed`` at most the measure's ``alpha``
divided by the number of case-measures judged (Bonferroni across the suite, so that an unchanged
suite fails with chance at most ``alpha``), and a ``pass`` of a case whose change sits at or
beyond the margin at most the measure's ``beta`` (per case).

The measuring itself is supplied by the caller (the runner), so this module only schedules
trials and judges them.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from calibrax.analysis.regression import GatePolicy, Pair, judge
from calibrax.ci.sequential import METHOD, SIGN_SHARE, fewest_pairs, look_schedule, sequential_bound, sequential_kind
from calibrax.core.errors import ConfigError
from calibrax.core.models import Direction, Measure, Verdict, VerdictKind

__all__ = ["TRIAL_MIN_TIME", "TRIAL_PRECISION", "TRIAL_ROUNDS", "Arm", "CaseRef", "InterleavedResult",
           "TrialStatistic", "abba_order", "rounds_for_precision", "run_interleaved", "trial_rounds", "trial_value"]

Arm = Literal["A", "B"]
TrialFn = Callable[[Arm, Sequence["CaseRef"]], Mapping[str, Mapping[str, float]]]
"""``measure(arm, cases)`` runs one trial of ``cases`` on one side and returns, per case key,
measure name -> the trial's value (:func:`trial_value`); a case that failed is left out."""

TRIAL_PRECISION = 0.005
"""Relative standard error the runner aims at for one trial's median (see rounds_for_precision);
the same rounds steady a trial's best round too."""
TRIAL_ROUNDS = (5, 30)
"""Bounds on the timed rounds of a trial chosen from the measured noise."""
TRIAL_MIN_TIME = 1.0
"""Seconds of timed rounds a trial aims at, at least (see trial_rounds)."""

_Series = dict[Arm, list[float | None]]  # per side, one entry per trial (None: the case failed)


class TrialStatistic(str, Enum):
    """What one trial's rounds are reduced to before the sides are compared."""

    best = "best"  # the best round: minimum time, maximum of a higher-is-better measure
    median = "median"  # the median round

    @property
    def label(self) -> str:
        """How reports name a trial's value.

        Example:
            >>> TrialStatistic.best.label
            'best round'
        """
        return "best round" if self is TrialStatistic.best else "median round"


def trial_value(samples: Sequence[float], direction: Direction, statistic: TrialStatistic) -> float:
    """One trial's value from its round samples.

    Example:
        >>> trial_value([3.0, 1.0, 2.0], Direction.LOWER, TrialStatistic.best)
        1.0
        >>> trial_value([3.0, 1.0, 2.0], Direction.HIGHER, TrialStatistic.best)
        3.0
        >>> trial_value([3.0, 1.0, 2.0, 9.0], Direction.LOWER, TrialStatistic.median)
        2.5
    """
    if not samples:
        raise ValueError("a trial with no round samples has no value")
    if statistic is TrialStatistic.median:
        return float(statistics.median(samples))
    return float(max(samples) if direction is Direction.HIGHER else min(samples))


@dataclass(frozen=True)
class CaseRef:
    """A case to compare: its benchmark, params and the measures judged on it."""

    key: str
    benchmark: str
    params: Mapping[str, Any]
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class InterleavedResult:
    """Verdicts with the per-trial values they came from.

    Attributes:
        trials: per case key and measure, each side's trial values (failed trials left out).
        order: the sides of every trial, in the order they ran.
        elapsed: seconds from the first trial to the last verdict.
        stopped_at: per case key, the trials per side measured when its verdict was reached.
        decided_after: per case key, the seconds from the first trial to its verdict.
        method: how the verdicts were reached.
        statistic: what each trial's rounds were reduced to (:class:`TrialStatistic`).
        rounds: per benchmark, the timed rounds of each trial after its first (where the
            measuring side chose them).
    """

    verdicts: tuple[Verdict, ...]
    trials: Mapping[str, Mapping[str, Mapping[Arm, tuple[float, ...]]]] = field(default_factory=dict)
    order: tuple[Arm, ...] = ()
    elapsed: float = 0.0
    stopped_at: Mapping[str, int] = field(default_factory=dict)
    decided_after: Mapping[str, float] = field(default_factory=dict)
    method: str = METHOD
    statistic: TrialStatistic = TrialStatistic.best
    rounds: Mapping[str, int] = field(default_factory=dict)


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


def rounds_for_precision(samples: Sequence[float], target: float, low: int = 5, high: int = 100) -> int:
    """Timed rounds for a trial whose median has relative standard error ``target``, from one
    trial's round samples: ``(1.2533 * CV / target)^2`` with the MAD-based CV (1.2533 is the
    median's efficiency factor under normal noise), clamped to ``[low, high]``.

    Example:
        >>> rounds_for_precision([1.0, 1.02, 0.98, 1.01, 0.99], 0.005)
        14
        >>> rounds_for_precision([1.0, 1.1, 0.9, 1.05, 0.95], 0.005)
        100
    """
    if not samples:
        return high
    med = statistics.median(samples)
    if med <= 0:
        return high
    cv = 1.4826 * statistics.median(abs(s - med) for s in samples) / med
    return max(low, min(high, math.ceil((1.2533 * cv / target) ** 2)))


def trial_rounds(noise_rounds: int, fixed_cost: float, round_seconds: float, bounds: tuple[int, int] = TRIAL_ROUNDS,
                 min_time: float = TRIAL_MIN_TIME) -> int:
    """Timed rounds for the later trials of a benchmark: those its noise asks for
    (:func:`rounds_for_precision`), or more, so that the timed rounds last at least
    ``min_time`` seconds and at least as long as the rest of a trial (``fixed_cost`` seconds:
    the process start, backend, compile and warm-up), when one round of all its cases takes
    ``round_seconds``; within ``bounds``.

    A trial pays its fixed cost whatever it times, and its best round steadies with every round
    it adds: a neighbour that holds a core slows whole stretches of a trial, and the longer the
    trial, the likelier it holds a clean stretch. On the trials of
    ``benchmarks/meta/gate_power.py`` with a neighbour, the best of a trial's first 14 rounds
    let the gate catch 0 to 77% of 5% slowdowns, the best of 30 (0.9 s) 87 to 100%.

    Example:
        >>> trial_rounds(14, fixed_cost=0.6, round_seconds=0.03)  # a 30 ms benchmark: 1 s of rounds
        30
        >>> trial_rounds(14, fixed_cost=0.6, round_seconds=0.1), trial_rounds(14, 0.6, 1.0)
        (14, 14)
        >>> trial_rounds(6, fixed_cost=3.0, round_seconds=0.2)  # a slow start: as long as the start
        15
    """
    low, high = bounds
    by_time = math.ceil(max(fixed_cost, min_time) / round_seconds) if round_seconds > 0 else high
    return max(low, min(high, max(noise_rounds, by_time)))


def _log_ratios(series: _Series, measure: Measure) -> list[float]:
    """log(worse / better-is-lower) of each pair of trials where both sides have a value."""
    out = []
    for a, b in zip(series["A"], series["B"], strict=False):
        if a is not None and b is not None and a > 0 and b > 0:
            out.append(math.log(a / b) if measure.direction is Direction.HIGHER else math.log(b / a))
    return out


def _more(looks: tuple[int, ...], alpha: float) -> str:
    """What would help an undecided case: more trials, and how many the sign test needs.

    Example:
        >>> _more((5, 6), 0.01)
        'add trials (the sign test decides from 8 pairs at alpha 0.01; ci.max_trials is 6)'
        >>> _more((6, 8, 10), 0.01)
        'add trials'
    """
    need = fewest_pairs(looks, SIGN_SHARE * alpha)
    if need is not None:
        return "add trials"
    reach = next(n for n in range(looks[-1] + 1, 10_000)
                 if fewest_pairs(look_schedule(looks[0], n), SIGN_SHARE * alpha) is not None)
    return (f"add trials (the sign test decides from {reach} pairs at alpha {alpha:.2g}; "
            f"ci.max_trials is {looks[-1]})")


@dataclass(frozen=True)
class _Look:
    """One look at a case: its verdict per measure, and whether all of them are decided."""

    verdicts: list[Verdict]
    decided: bool


def _look(case: CaseRef, samples: Mapping[str, _Series], policy: GatePolicy, alpha_share: int,
          elapsed: float, final: bool, statistic: TrialStatistic, looks: tuple[int, ...]) -> _Look:
    verdicts, decided = [], True
    for m in case.measures:
        series = samples.get(m.name, {"A": [], "B": []})
        a = tuple(v for v in series["A"] if v is not None)
        b = tuple(v for v in series["B"] if v is not None)
        rule = policy.rule(case.benchmark, m.name)
        if not a or not b:  # a side with no ok trial at all: the analysis layer says which
            verdicts += judge([Pair(case.benchmark, case.params, m, a or None, b or None, noise=0.0)], policy)
            continue
        alpha = rule.alpha / alpha_share
        n = len(series["A"])
        bound = sequential_bound(_log_ratios(series, m), alpha, looks, rule.beta)
        made = sequential_kind(bound, rule.margin) if bound is not None else None
        if made is None:
            decided = False
            ci = f"ratio {bound.ratio:.3f} [{bound.low:.3f}, {bound.high:.3f}]" if bound else "fewer than 2 paired trials"
            made = (VerdictKind.INCONCLUSIVE,
                    f"{ci}: cannot tell whether it is within the {rule.margin:.0%} margin; {_more(looks, alpha)}")
        kind, text = made
        verb = "decided" if kind is not VerdictKind.INCONCLUSIVE else "still undecided"
        message = (f"{text} (each trial judged by its {statistic.label}; {METHOD}, alpha {alpha:.2g}, "
                   f"beta {rule.beta:.2g}; "
                   f"{verb} after {n} trials per side, {elapsed:.0f} s)")
        details = {"method": METHOD, "n_baseline": len(a), "n_candidate": len(b), "trials_per_side": n,
                   "median_pair_ratio": bound.ratio if bound else None,
                   "pairs": bound.pairs if bound else 0, "sign_test_level": bound.level if bound else None,
                   "alpha_sequence": alpha, "beta": rule.beta, "looks": list(looks), "elapsed_s": round(elapsed, 3),
                   "trial_statistic": statistic.value}
        base, cand = statistics.median(a), statistics.median(b)
        ratio = (base / cand if m.direction is Direction.HIGHER else cand / base) if base > 0 and cand > 0 else None
        verdicts.append(Verdict(case.benchmark, dict(case.params), m.name, kind, ratio, base, cand,
                                rule.margin, message, bound.low if bound else None, bound.high if bound else None,
                                details=details))
    return _Look(verdicts, decided or final)


def run_interleaved(measure: TrialFn, cases: Sequence[CaseRef], policy: GatePolicy, *, trials: int = 10,
                    max_trials: int = 30, on_trial: Callable[[Arm, int], None] | None = None,
                    statistic: TrialStatistic = TrialStatistic.best) -> InterleavedResult:
    """Measure A (baseline) and B (candidate) in ABBA order, judging each case sequentially.

    Args:
        measure: runs one trial of some cases on one side (a fresh process each time).
        cases: the cases to compare and the measures judged on each.
        policy: margins and alpha per measure.
        trials: trials per side before the first look (at least 5).
        max_trials: trials per side at most; undecided cases get ABBA blocks until then.
        on_trial: called after each trial with the side and the trial's number (progress).
        statistic: what ``measure`` reduced each trial to; recorded with the verdicts.

    Raises:
        ConfigError: ``trials`` below 5 or above ``max_trials``.

    Example:
        >>> from calibrax.core import STANDARD_MEASURES
        >>> same = lambda arm, todo: {c.key: {"time": 1.0} for c in todo}
        >>> res = run_interleaved(same, [CaseRef("k", "b", {}, (STANDARD_MEASURES["time"],))], GatePolicy(), trials=5)
        >>> res.verdicts[0].kind.value, res.stopped_at["k"]
        ('pass', 5)
    """
    if not 5 <= trials <= max_trials:
        raise ConfigError(f"ci.trials must be at least 5 and at most ci.max_trials ({max_trials}), got {trials}.")
    share = max(1, sum(len(c.measures) for c in cases))
    looks = look_schedule(trials, max_trials)
    samples: dict[str, dict[str, _Series]] = {c.key: {m.name: {"A": [], "B": []} for m in c.measures} for c in cases}
    order: list[Arm] = []
    final: dict[str, list[Verdict]] = {}
    stopped: dict[str, int] = {}
    decided_after: dict[str, float] = {}
    todo, done, start = list(cases), 0, time.monotonic()
    while todo:
        for arm in abba_order(trials if done == 0 else min(2, max_trials - done)):
            got = measure(arm, todo)
            for case in todo:
                for m in case.measures:
                    samples[case.key][m.name][arm].append(got.get(case.key, {}).get(m.name))
            order.append(arm)
            if on_trial is not None:
                on_trial(arm, len(order))
        done = len(samples[todo[0].key][todo[0].measures[0].name]["A"]) if todo[0].measures else max_trials
        elapsed = time.monotonic() - start
        still = []
        for case in todo:
            look = _look(case, samples[case.key], policy, share, elapsed, final=done >= max_trials, statistic=statistic,
                         looks=looks)
            if look.decided:
                final[case.key], stopped[case.key], decided_after[case.key] = look.verdicts, done, elapsed
            else:
                still.append(case)
        todo = still
    frozen = {k: {m: {a: tuple(v for v in vals if v is not None) for a, vals in arms.items()}
                  for m, arms in ms.items()} for k, ms in samples.items()}
    verdicts = tuple(v for c in cases for v in final[c.key])
    return InterleavedResult(verdicts, frozen, tuple(order), time.monotonic() - start, stopped, decided_after,
                             statistic=statistic)
