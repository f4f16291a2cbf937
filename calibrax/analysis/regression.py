"""The three-valued regression verdict per case and measure.

For samples of a timed measure (REFERENCE.md, "Recommended gate"): the effect is the ratio of
medians, oriented so that above 1 is worse, with a 95% BCa bootstrap CI; significance is a
two-sided Mann-Whitney U test at ``alpha`` whose p-values are also Benjamini-Hochberg adjusted
across the suite at ``fdr``. Then, with ``m`` the practical margin:

- REGRESSED when significant and the CI's lower bound is above ``1 + m``;
- IMPROVED when significant and the CI's upper bound is below ``1 / (1 + m)``;
- PASS when the CI's upper bound is below ``1 + m``;
- UNSTABLE instead of REGRESSED or INCONCLUSIVE when either side's MAD-based CV exceeds
  ``m / 2``, unless the CI's lower bound also clears the noise band ``1 + 3 CV``: a noisy
  case fails only on a slowdown far larger than its own noise (a 2x slowdown with 3% noise
  still fails; a 6% one does not);
- INCONCLUSIVE otherwise (more samples or trials may decide it).

When a stored baseline's case has a history of runs (``Pair.history``, at least
:data:`~calibrax.analysis.run_noise.MIN_HISTORY_RUNS`), the unit is a run's median instead:
effect, CI and p-value come from :func:`calibrax.analysis.run_noise.between_run_test`, which
learns the between-run spread from that history, and the same rule above decides (the noise
is then in the CI, so there is no UNSTABLE). Each stored-gate verdict names its noise model in
``details["noise_model"]``: ``history of 10 runs`` or ``within-run only``.

Deterministic measures (flops, bytes) use ``exact`` or ``relative`` rules, quality metrics
``absolute`` rules (``min``, ``max``, ``max_drop``); cases on hardware with another
fingerprint are INCOMPARABLE and cases present on one side only MISSING. None of those
three ever fails the gate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np

from calibrax.analysis.run_noise import MIN_HISTORY_RUNS, RunLevel, between_run_test, noise_model_label
from calibrax.core.errors import ConfigError
from calibrax.core.models import CaseResult, CaseStatus, Direction, HardwareInfo, Measure, Verdict, VerdictKind
from calibrax.core.result import RunRecord
from calibrax.statistics.analyzer import median_ci
from calibrax.statistics.significance import (
    benjamini_hochberg,
    cliffs_delta,
    cliffs_label,
    mann_whitney,
    ratio_of_medians,
)

__all__ = ["GatePolicy", "MeasureRule", "Pair", "RunsByCase", "comparable_hardware", "compare_records", "decide", "judge",
           "run_level"]

Rule = Literal["statistical", "exact", "relative", "absolute"]
_MIN_SAMPLES = 5


@dataclass(frozen=True)
class MeasureRule:
    """How one measure is judged.

    Attributes:
        rule: ``statistical`` (samples), ``exact`` or ``relative`` (deterministic values),
            ``absolute`` (quality metrics against fixed bounds or a largest drop).
        margin: practical margin, relative (0.05 = 5%); for ``absolute`` unused.
        alpha: significance level of the Mann-Whitney test (the stored gate); the interleaved
            gate's chance of a false ``regressed`` over its sequential looks.
        beta: the interleaved gate's chance of calling ``pass`` a case whose change sits at or
            beyond the margin, over its sequential looks (its type II error at the margin; the
            stored gate passes on its 95% confidence interval). In (0, 0.5].
        min, max: ``absolute``: the value must stay within these bounds.
        max_drop: ``absolute``: the largest allowed worsening against the baseline, in the
            measure's own units (direction-aware).
    """

    rule: Rule = "statistical"
    margin: float = 0.05
    alpha: float = 0.01
    beta: float = 0.1
    min: float | None = None
    max: float | None = None
    max_drop: float | None = None

    @classmethod
    def from_config(cls, key: str, cfg: Mapping[str, Any]) -> MeasureRule:
        """Build from a mapping such as ``{margin: 0.05, alpha: 0.01}``; bad values raise ConfigError."""
        allowed = {"rule", "margin", "alpha", "beta", "min", "max", "max_drop"}
        unknown = sorted(set(cfg) - allowed)
        if unknown:
            raise ConfigError(f"{key} has unknown setting(s) {unknown}; allowed: {sorted(allowed)}.")
        rule = cfg.get("rule") or ("absolute" if {"min", "max", "max_drop"} & set(cfg) else "statistical")
        if rule not in ("statistical", "exact", "relative", "absolute"):
            raise ConfigError(f"{key}.rule must be statistical, exact, relative or absolute, got {rule!r}.")
        out = cls(rule=cast(Rule, rule), margin=_number(f"{key}.margin", cfg.get("margin", 0.05), low=0.0),
                  alpha=_number(f"{key}.alpha", cfg.get("alpha", 0.01), low=0.0, high=1.0),
                  beta=_beta(f"{key}.beta", cfg.get("beta", 0.1)),
                  min=_optional(f"{key}.min", cfg.get("min")), max=_optional(f"{key}.max", cfg.get("max")),
                  max_drop=_optional(f"{key}.max_drop", cfg.get("max_drop")))
        if out.rule == "absolute" and out.min is None and out.max is None and out.max_drop is None:
            raise ConfigError(f"{key}: an absolute rule needs min, max or max_drop.")
        return out


def _number(key: str, value: Any, *, low: float, high: float = math.inf) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not low <= out <= high:
        raise ConfigError(f"{key} must be a number in [{low}, {high}], got {value!r}.")
    return out


def _beta(key: str, value: Any) -> float:
    out = _number(key, value, low=0.0, high=0.5)
    if out == 0:
        raise ConfigError(f"{key} must be above 0 (a gate that may never pass cannot stop early), got {value!r}; "
                          "0.1 passes a change at the margin at most 1 time in 10.")
    return out


def _optional(key: str, value: Any) -> float | None:
    return None if value is None else _number(key, value, low=-math.inf)


@dataclass(frozen=True)
class GatePolicy:
    """Which measures are gated and the rule for each, suite-wide and per benchmark.

    Example:
        >>> p = GatePolicy.from_config({"gate": ["time"], "measures": {"time": {"margin": 0.05}},
        ...                             "benchmarks": {"matmul": {"time": {"margin": 0.1}}}})
        >>> p.rule("matmul", "time").margin, p.rule("other", "time").margin
        (0.1, 0.05)
    """

    gate: tuple[str, ...] = ("time",)
    measures: Mapping[str, MeasureRule] = field(default_factory=lambda: {"time": MeasureRule()})
    benchmarks: Mapping[str, Mapping[str, MeasureRule]] = field(default_factory=dict)
    fdr: float = 0.05
    seed: int = 0

    def rule(self, benchmark: str, measure: str) -> MeasureRule:
        """The rule for one benchmark's measure (per-benchmark rules win)."""
        specific = self.benchmarks.get(benchmark, {})
        if measure in specific:
            return specific[measure]
        return self.measures.get(measure, MeasureRule())

    def gated(self, benchmark: str) -> list[str]:
        """Measures gated for ``benchmark``: the suite's gate plus its own rules."""
        return list(dict.fromkeys([*self.gate, *self.benchmarks.get(benchmark, {})]))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], per_benchmark: Mapping[str, Mapping[str, Any]] | None = None) -> GatePolicy:
        """Build from the ``thresholds`` config node plus benchmarks' own ``thresholds``."""
        measures = {k: MeasureRule.from_config(f"thresholds.measures.{k}", v or {})
                    for k, v in (cfg.get("measures") or {}).items()}
        merged: dict[str, dict[str, Any]] = {b: dict(m or {}) for b, m in (cfg.get("benchmarks") or {}).items()}
        for bench, rules in (per_benchmark or {}).items():
            merged.setdefault(bench, {}).update(rules or {})
        benchmarks = {b: {k: MeasureRule.from_config(f"thresholds.benchmarks.{b}.{k}", {**_base(measures, k), **(v or {})})
                          for k, v in m.items()} for b, m in merged.items()}
        gate = tuple(cfg.get("gate") or ("time",))
        return cls(gate, measures, benchmarks, _number("thresholds.fdr", cfg.get("fdr", 0.05), low=0.0, high=1.0),
                   int(cfg.get("seed", 0)))


def _base(measures: Mapping[str, MeasureRule], key: str) -> dict[str, Any]:
    rule = measures.get(key)
    if rule is None or rule.rule == "absolute":
        return {}
    return {"rule": rule.rule, "margin": rule.margin, "alpha": rule.alpha}


@dataclass(frozen=True)
class Pair:
    """One case and measure to judge: baseline and candidate samples (None when absent).

    ``noise`` is the noise level the unstable rule compares with half the margin; by default
    the larger MAD-based CV of the two samples. The rule guards the stored gate, whose samples
    are rounds of one process each: their CI ignores the variation between processes, so noisy
    rounds must not hard-fail. When each sample is the median of an independent trial (the
    interleaved gate), the test and the CI already weigh all of that variation, and the caller
    passes ``noise=0.0``.

    ``history`` (the stored gate) holds the baseline side's runs of this case, oldest first and
    the baseline run among them; with at least ``MIN_HISTORY_RUNS`` the verdict compares run
    medians (see :mod:`calibrax.analysis.run_noise`). ``candidate_runs`` are the candidate's
    runs (its own and its repeats); empty means the one run ``candidate`` came from. None for
    ``history`` (the interleaved gate) leaves the noise model unnamed.
    """

    benchmark: str
    params: Mapping[str, Any]
    measure: Measure
    baseline: tuple[float, ...] | None
    candidate: tuple[float, ...] | None
    comparable: bool = True
    noise: float | None = None
    history: tuple[RunLevel, ...] | None = None
    candidate_runs: tuple[RunLevel, ...] = ()


@dataclass(frozen=True)
class _Stats:
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    cv: float
    details: Mapping[str, Any]
    levels: tuple[float, float] | None = None  # (baseline, candidate) levels when not the sample medians


def _cv(x: np.ndarray) -> float:
    med = float(np.median(x))
    return 1.4826 * float(np.median(np.abs(x - med))) / med if med > 0 else math.inf


def _statistics(pair: Pair, seed: int) -> _Stats:
    a, b = np.asarray(pair.baseline, dtype=float), np.asarray(pair.candidate, dtype=float)
    worse_first = (b, a) if pair.measure.direction is Direction.HIGHER else (a, b)
    effect = ratio_of_medians(*worse_first, seed=seed)
    delta, cv_a, cv_b = cliffs_delta(a, b), _cv(a), _cv(b)
    details: dict[str, Any] = {"cliffs_delta": delta, "cliffs_label": cliffs_label(delta), "cv_baseline": cv_a,
               "cv_candidate": cv_b, "n_baseline": int(a.size), "n_candidate": int(b.size)}
    noise = max(cv_a, cv_b) if pair.noise is None else pair.noise
    if pair.history is not None:
        details["noise_model"] = noise_model_label(0)
    return _Stats(effect.estimate, effect.ci_low, effect.ci_high, mann_whitney(a, b).p_value, noise, details)


def run_level(samples: Sequence[float]) -> RunLevel:
    """One run's median of some samples with its distribution-free 95% CI.

    Example:
        >>> run_level([float(i) for i in range(1, 101)])
        RunLevel(median=50.5, ci_low=40.0, ci_high=61.0)
    """
    return RunLevel(float(np.median(samples)), *median_ci(samples))


def _between_runs(pair: Pair) -> _Stats:
    """Run medians against the baseline's history: the noise between runs is learnt from it."""
    assert pair.history is not None and pair.candidate is not None
    runs = pair.candidate_runs or (run_level(pair.candidate),)
    test = between_run_test(pair.history, runs, higher_is_better=pair.measure.direction is Direction.HIGHER)
    details = {"noise_model": test.noise_model, "history_runs": test.history_runs,
               "candidate_runs": test.candidate_runs, "between_run_cv": test.between_cv, "df": test.df,
               "baseline_run_median": float(np.median(pair.baseline)) if pair.baseline else None,
               "candidate_run_medians": [r.median for r in runs],
               "n_baseline": len(pair.baseline or ()), "n_candidate": len(pair.candidate)}
    return _Stats(test.ratio, test.ci_low, test.ci_high, test.p_value, 0.0, details,
                  (test.baseline_level, test.candidate_level))


def _stats_for(pair: Pair, seed: int) -> _Stats:
    if pair.history is not None and len(pair.history) >= MIN_HISTORY_RUNS:
        return _between_runs(pair)
    return _statistics(pair, seed)


def decide(stats_ratio: float, ci_low: float, ci_high: float, p_value: float, p_adjusted: float, cv: float,
           rule: MeasureRule, fdr: float) -> tuple[VerdictKind, str]:
    """The statistical verdict from the effect, its CI, the p-values and the noise level.

    Example:
        >>> decide(1.2, 1.15, 1.25, 1e-6, 1e-5, 0.01, MeasureRule(margin=0.05), 0.05)[0].value
        'regressed'
    """
    m = rule.margin
    significant = p_value < rule.alpha and p_adjusted < fdr
    ci = f"ratio {stats_ratio:.3f} [{ci_low:.3f}, {ci_high:.3f}]"
    noisy = cv > m / 2
    if significant and ci_low > 1 + m:
        if noisy and ci_low <= 1 + 3 * cv:
            return VerdictKind.UNSTABLE, f"{ci} looks worse, but the noise (CV {cv:.1%}) exceeds half the {m:.0%} margin"
        return VerdictKind.REGRESSED, f"{ci}: worse beyond the {m:.0%} margin (p={p_value:.2g}, adjusted {p_adjusted:.2g})"
    if significant and ci_high < 1 / (1 + m):
        return VerdictKind.IMPROVED, f"{ci}: better beyond the {m:.0%} margin (p={p_value:.2g})"
    if ci_high < 1 + m:
        return VerdictKind.PASS, f"{ci}: within the {m:.0%} margin"
    if noisy:
        return VerdictKind.UNSTABLE, f"{ci}: undecided and noisy (CV {cv:.1%} > {m / 2:.1%}); steady the machine or widen the margin"
    return VerdictKind.INCONCLUSIVE, f"{ci}: cannot tell whether it is within the {m:.0%} margin (p={p_value:.2g}); add samples or trials"


def judge(pairs: Sequence[Pair], policy: GatePolicy) -> list[Verdict]:
    """Verdicts for every pair, with Benjamini-Hochberg across the suite's statistical tests."""
    results: list[Verdict | None] = [None] * len(pairs)
    stats_of: dict[int, _Stats] = {}
    for i, pair in enumerate(pairs):
        rule = policy.rule(pair.benchmark, pair.measure.name)
        early = _early(pair, rule)
        if early is not None:
            results[i] = early
        elif rule.rule == "statistical":
            stats_of[i] = _stats_for(pair, policy.seed)
        else:
            results[i] = _deterministic(pair, rule)
    adjusted = dict(zip(stats_of, benjamini_hochberg([s.p_value for s in stats_of.values()]), strict=True))
    for i, s in stats_of.items():
        pair, rule = pairs[i], policy.rule(pairs[i].benchmark, pairs[i].measure.name)
        kind, text = decide(s.ratio, s.ci_low, s.ci_high, s.p_value, float(adjusted[i]), s.cv, rule, policy.fdr)
        if s.levels is not None:
            text = f"{text.replace('add samples or trials', 'measure more runs (ci.repeats)')} (noise: {s.details['noise_model']})"
        results[i] = _verdict(pair, kind, text, rule.margin, s.ratio, ci=(s.ci_low, s.ci_high),
                              p=(s.p_value, float(adjusted[i])), details=s.details, levels=s.levels)
    return [v for v in results if v is not None]


def _verdict(pair: Pair, kind: VerdictKind, message: str, margin: float, ratio: float | None = None, *,
             ci: tuple[float, float] | None = None, p: tuple[float, float] | None = None,
             details: Mapping[str, Any] | None = None, levels: tuple[float, float] | None = None) -> Verdict:
    base = float(np.median(pair.baseline)) if pair.baseline else None
    cand = float(np.median(pair.candidate)) if pair.candidate else None
    if levels is not None:
        base, cand = levels
    return Verdict(pair.benchmark, dict(pair.params), pair.measure.name, kind, ratio, base, cand, margin, message,
                   ci[0] if ci else None, ci[1] if ci else None, p[0] if p else None, p[1] if p else None,
                   dict(details or {}))


def _early(pair: Pair, rule: MeasureRule) -> Verdict | None:
    """MISSING, INCOMPARABLE, absolute bounds and too-few-samples verdicts, before statistics."""
    if pair.candidate is None or len(pair.candidate) == 0:
        return _verdict(pair, VerdictKind.MISSING, "the candidate has no ok result for this case", rule.margin)
    if rule.rule == "absolute" and (rule.min is not None or rule.max is not None):
        bounded = _bounds(pair, rule)
        if bounded is not None or pair.baseline is None:
            return bounded or _verdict(pair, VerdictKind.PASS, "within its absolute bounds", rule.margin)
    if pair.baseline is None or len(pair.baseline) == 0:
        return _verdict(pair, VerdictKind.MISSING, "the baseline has no ok result for this case", rule.margin)
    if not pair.comparable:
        return _verdict(pair, VerdictKind.INCOMPARABLE, "measured on hardware with another fingerprint than the baseline", rule.margin)
    if rule.rule == "statistical" and min(len(pair.baseline), len(pair.candidate)) < _MIN_SAMPLES:
        return _verdict(pair, VerdictKind.INCONCLUSIVE,
                        f"too few samples for a statistical verdict (need {_MIN_SAMPLES} per side)", rule.margin)
    return None


def _bounds(pair: Pair, rule: MeasureRule) -> Verdict | None:
    value = float(np.median(pair.candidate))  # type: ignore[arg-type]
    if rule.min is not None and value < rule.min:
        return _verdict(pair, VerdictKind.REGRESSED, f"{value:.6g} is below the minimum {rule.min:.6g}", 0.0)
    if rule.max is not None and value > rule.max:
        return _verdict(pair, VerdictKind.REGRESSED, f"{value:.6g} is above the maximum {rule.max:.6g}", 0.0)
    return None


def _deterministic(pair: Pair, rule: MeasureRule) -> Verdict:
    base, cand = float(np.median(pair.baseline)), float(np.median(pair.candidate))  # type: ignore[arg-type]
    direction = pair.measure.direction
    worsening = {Direction.LOWER: cand - base, Direction.HIGHER: base - cand}.get(direction, abs(cand - base))
    ratio = cand / base if base else None
    if rule.rule == "absolute":  # max_drop against the baseline
        drop = rule.max_drop if rule.max_drop is not None else math.inf
        kind = VerdictKind.REGRESSED if worsening > drop else VerdictKind.PASS
        return _verdict(pair, kind, f"worsened by {worsening:.6g} (largest allowed {drop:.6g})", drop, ratio)
    if rule.rule == "exact":
        if cand == base:
            return _verdict(pair, VerdictKind.PASS, "unchanged", 0.0, ratio)
        kind = VerdictKind.IMPROVED if worsening < 0 else VerdictKind.REGRESSED
        return _verdict(pair, kind, f"changed from {base:.6g} to {cand:.6g} (exact rule)", 0.0, ratio)
    rel = worsening / abs(base) if base else (0.0 if worsening == 0 else math.inf)
    if rel > rule.margin:
        return _verdict(pair, VerdictKind.REGRESSED, f"{rel:+.2%} worse, beyond the {rule.margin:.0%} margin", rule.margin, ratio)
    if rel < -rule.margin and direction is not Direction.INFO:
        return _verdict(pair, VerdictKind.IMPROVED, f"{-rel:.2%} better, beyond the {rule.margin:.0%} margin", rule.margin, ratio)
    return _verdict(pair, VerdictKind.PASS, f"within the {rule.margin:.0%} margin ({rel:+.2%})", rule.margin, ratio)


def _samples(case: CaseResult | None, measure: str) -> tuple[float, ...] | None:
    if case is None or case.status is not CaseStatus.OK or measure not in case.measures:
        return None
    return tuple(case.measures[measure].samples) or None


def comparable_hardware(a: HardwareInfo | None, b: HardwareInfo | None) -> bool:
    """Whether runs on ``a`` and ``b`` may be compared: the same hardware fingerprint, or, when
    one side was imported from another tool's file (it records no library versions, so its
    fingerprint cannot match), the same machine: backend, device kind and count, CPU model
    and core count.

    Example:
        >>> from calibrax.core import HardwareInfo
        >>> ours = HardwareInfo("cpu", "cpu", 1, "AMD EPYC", 2, 0, "Linux", "3.11", versions={"jax": "0.10.2"})
        >>> imported = HardwareInfo("cpu", "cpu", 1, "AMD EPYC", 2, 0, "Linux-6", "3.11")
        >>> comparable_hardware(ours, imported), comparable_hardware(ours, HardwareInfo("cpu", "cpu", 1, "Xeon", 2, 0, "", ""))
        (True, False)
    """
    if a is None or b is None or a.fingerprint == b.fingerprint:
        return True
    if a.versions and b.versions:
        return False
    return (a.backend, a.device_kind, a.device_count, a.cpu_model, a.cpu_count) == (
        b.backend, b.device_kind, b.device_count, b.cpu_model, b.cpu_count)


RunsByCase = Mapping[tuple[str, str], Sequence[RunLevel]]
"""(case key, measure name) -> runs of that case's measure, oldest first."""


def compare_records(candidate: RunRecord, baseline: RunRecord, policy: GatePolicy, *,
                    history: RunsByCase | None = None, repeats: RunsByCase | None = None) -> list[Verdict]:
    """Verdicts of a stored candidate run against a stored baseline run (the ``stored`` mode).

    Args:
        candidate, baseline: the two stored runs.
        policy: margins, alpha and the suite-level FDR.
        history: the baseline side's runs per case and measure (the baseline run among them);
            a case with at least ``MIN_HISTORY_RUNS`` is judged on run medians, the others
            on samples as before. None: no history (every verdict reads ``within-run only``).
        repeats: further runs of the candidate per case and measure (``ci.repeats``), used with
            the candidate's own run when its case has a history.

    Example:
        verdicts = compare_records(store.load_run("latest"), store.load_run("r1"), GatePolicy())
        verdicts[0].details["noise_model"]  # 'within-run only'
    """
    comparable = comparable_hardware(candidate.run.hardware, baseline.run.hardware)
    base_cases = {c.key: c for c in baseline.cases}
    cand_cases = {c.key: c for c in candidate.cases}
    pairs, summary_only = [], []
    for key in list(cand_cases) + [k for k in base_cases if k not in cand_cases]:
        cand, base = cand_cases.get(key), base_cases.get(key)
        ref = cand if cand is not None else base
        assert ref is not None
        if cand is not None and cand.status is not CaseStatus.OK:
            continue  # a failed case is reported as a failure (exit 3), not judged
        for name in policy.gated(ref.benchmark):
            source = (cand if cand is not None and name in cand.measures else base)
            if source is None or name not in source.measures:
                continue
            reason = _summary_only(base, name, "baseline") or _summary_only(cand, name, "candidate")
            if reason is not None:  # a summary without samples (an imported file): no test can be made
                pair = Pair(ref.benchmark, ref.params, source.measures[name].measure, None, None, comparable)
                summary_only.append(_verdict(pair, VerdictKind.INCONCLUSIVE, reason, policy.rule(ref.benchmark,
                                                                                               name).margin))
                continue
            pairs.append(_stored_pair(ref, source.measures[name].measure, _samples(base, name),
                                      _samples(cand, name), comparable, (history or {}).get((ref.key, name), ()),
                                      (repeats or {}).get((ref.key, name), ())))
    return judge(pairs, policy) + summary_only


def _stored_pair(ref: CaseResult, measure: Measure, base: tuple[float, ...] | None, cand: tuple[float, ...] | None,
                 comparable: bool, history: Sequence[RunLevel], repeats: Sequence[RunLevel]) -> Pair:
    """A stored-gate pair: the candidate's own run first among its runs, then its repeats."""
    runs = (run_level(cand), *repeats) if cand and repeats else ()
    return Pair(ref.benchmark, ref.params, measure, base, cand, comparable, history=tuple(history),
                candidate_runs=tuple(runs))


def _summary_only(case: CaseResult | None, measure: str, side: str) -> str | None:
    """Why a case's measure cannot be tested: it holds a summary of n samples but not the samples."""
    if case is None or case.status is not CaseStatus.OK or measure not in case.measures:
        return None
    result = case.measures[measure]
    if result.samples or result.summary is None or result.summary.n == 0:
        return None
    return (f"the {side} holds only a summary of {result.summary.n} samples (median {result.summary.median:.6g}), "
            "not the samples; a verdict needs samples on both sides (import files that keep them)")

