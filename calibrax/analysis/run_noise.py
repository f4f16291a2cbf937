"""Comparing run medians when the noise between runs is learnt from a baseline's history.

Two runs of the same code on the same machine differ by more than each run's own CI says:
each process gets its own compilation, memory layout and neighbours. A stored baseline is one
such run, so a baseline that happened to be fast looks like a regression of the next run.
When the baseline's case has a history of runs (its branch, its hardware), the unit of
comparison becomes a run's median and the spread between runs comes from that history.

The model, on log medians (so effects are ratios): run ``i`` of a case gives
``y_i = mu + u_i + e_i`` with ``u_i ~ N(0, tau^2)`` the between-run effect and
``e_i ~ N(0, w_i)`` the run's own sampling error, ``w_i`` read from the run's 95% CI of its
median. This is the random-effects model of meta-analysis; ``tau^2`` is estimated by the
method of moments, ``max(0, s^2 - mean(w))`` over the history (DerSimonian and Laird 1986).
The baseline level is the mean of the history's ``k`` log medians, with variance ``s^2 / k``;
each candidate run has variance ``tau^2 + w_c`` (its own CI plus the learnt between-run part),
or, with ``R >= 2`` candidate runs, the larger of that and their own sample variance. The
difference of the two means is tested with Student's t on ``k - 1`` degrees of freedom, or
Welch-Satterthwaite's when the candidate's own spread enters (Welch 1947). This is the
prediction-interval reading of conbench's lookback z-score and Bencher's t-test threshold,
with each run's own CI added and a three-valued verdict (see
:func:`calibrax.analysis.regression.decide`).

References:
    DerSimonian and Laird, "Meta-analysis in clinical trials", Controlled Clinical Trials 7
    (1986) 177-188. Welch, "The generalization of Student's problem when several different
    population variances are involved", Biometrika 34 (1947) 28-35.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calibrax.analysis._common import AnalysisError

__all__ = ["MIN_HISTORY_RUNS", "BetweenRunTest", "RunLevel", "between_run_test", "noise_model_label"]

MIN_HISTORY_RUNS = 3
"""The fewest history runs whose spread is used (2 degrees of freedom); with fewer, the
comparison uses each run's own samples only."""

_Z95 = 1.959963984540054  # the normal 97.5% quantile (scipy.stats.norm.ppf(0.975))


@dataclass(frozen=True)
class RunLevel:
    """One run's median of one case and measure, with its own 95% CI (None when not known)."""

    median: float
    ci_low: float | None = None
    ci_high: float | None = None

    def log_variance(self) -> float | None:
        """The sampling variance of the log median, from the 95% CI; None without a usable CI.

        Example:
            >>> round(RunLevel(1.0, math.exp(-0.0196), math.exp(0.0196)).log_variance(), 8)
            0.0001
        """
        if self.ci_low is None or self.ci_high is None or not 0 < self.ci_low <= self.ci_high:
            return None
        return ((math.log(self.ci_high) - math.log(self.ci_low)) / (2 * _Z95)) ** 2


@dataclass(frozen=True)
class BetweenRunTest:
    """The comparison of candidate runs with a baseline's history.

    Attributes:
        ratio: oriented ratio of the candidate's level to the history's (above 1 is worse),
            each level the geometric mean of its runs' medians.
        ci_low, ci_high: its 95% CI.
        p_value: two-sided t-test of no difference.
        df: degrees of freedom of the t distribution used.
        baseline_level, candidate_level: the two levels, in the measure's unit.
        between_cv: the learnt between-run spread ``tau`` (a relative standard deviation).
        history_runs, candidate_runs: how many runs each side had.
    """

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    baseline_level: float
    candidate_level: float
    between_cv: float
    history_runs: int
    candidate_runs: int

    @property
    def noise_model(self) -> str:
        """The noise model in words, for verdict messages."""
        return noise_model_label(self.history_runs, self.candidate_runs)


def noise_model_label(history_runs: int, candidate_runs: int = 1) -> str:
    """How a stored-gate verdict weighed noise, in words.

    Example:
        >>> noise_model_label(10), noise_model_label(10, 3), noise_model_label(0)
        ('history of 10 runs', 'history of 10 runs, 3 candidate runs', 'within-run only')
    """
    if history_runs < MIN_HISTORY_RUNS:
        return "within-run only"
    more = f", {candidate_runs} candidate runs" if candidate_runs > 1 else ""
    return f"history of {history_runs} runs{more}"


def _logs(runs: Sequence[RunLevel], side: str) -> np.ndarray:
    values = np.array([r.median for r in runs], dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise AnalysisError(f"between_run_test needs positive finite {side} medians, got {values.tolist()}.")
    return np.log(values)


def _mean_variance(runs: Sequence[RunLevel], default: float) -> float:
    known = [v for v in (r.log_variance() for r in runs) if v is not None]
    return float(np.mean(known)) if known else default


def between_run_test(history: Sequence[RunLevel], candidate: Sequence[RunLevel], *,
                     higher_is_better: bool = False) -> BetweenRunTest:
    """Test candidate run medians against a history of baseline run medians.

    Args:
        history: the baseline side's runs, at least :data:`MIN_HISTORY_RUNS`.
        candidate: the candidate's runs (one, or ``ci.repeats`` fresh processes).
        higher_is_better: the measure's direction (throughput); the ratio is oriented so that
            above 1 is worse either way.

    Raises:
        AnalysisError: too short a history, no candidate run, or a median that is not a
            positive finite number.

    Example:
        >>> hist = [RunLevel(m, m * 0.99, m * 1.01) for m in (35.0, 35.9, 34.6, 36.1, 35.2, 32.2)]
        >>> out = between_run_test(hist, [RunLevel(35.6, 35.3, 35.9)])
        >>> out.ratio < 1.03 and out.ci_low < 1.0 < out.ci_high
        True
    """
    from scipy import stats  # on first use: scipy adds 2 s to the CLI start-up
    if len(history) < MIN_HISTORY_RUNS:
        raise AnalysisError(f"between_run_test needs at least {MIN_HISTORY_RUNS} history runs, got {len(history)}.")
    h, c = _logs(history, "history"), _logs(candidate, "candidate")
    k, r = h.size, c.size
    s2 = float(np.var(h, ddof=1))
    w_hist = _mean_variance(history, 0.0)  # unknown CIs: the whole spread counts as between runs
    tau2 = max(0.0, s2 - w_hist)
    model = tau2 + _mean_variance(candidate, w_hist)  # one candidate run's variance by the model
    own = float(np.var(c, ddof=1)) if r >= 2 else 0.0
    per_run = max(model, own)
    var_base, var_cand = s2 / k, per_run / r
    se = math.sqrt(var_base + var_cand)
    if own > model:  # the candidate's own spread enters: Welch-Satterthwaite
        df = (var_base + var_cand) ** 2 / (var_base ** 2 / (k - 1) + var_cand ** 2 / (r - 1))
    else:
        df = float(k - 1)
    diff = float(c.mean() - h.mean())
    if higher_is_better:
        diff = -diff
    if se == 0.0:
        p = 1.0 if diff == 0.0 else 0.0
        low = high = diff
    else:
        p = float(2 * stats.t.sf(abs(diff) / se, df))
        half = float(stats.t.ppf(0.975, df)) * se
        low, high = diff - half, diff + half
    return BetweenRunTest(math.exp(diff), math.exp(low), math.exp(high), p, df, math.exp(float(h.mean())),
                          math.exp(float(c.mean())), math.sqrt(tau2), k, r)
