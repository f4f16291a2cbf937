"""Changepoints in a benchmark's history: the runs where its level shifted and stayed shifted.

Two methods share one search. Binary segmentation finds, in a segment, the split with the
largest Welch t between the runs before and after it (``binseg``) or the largest energy
divergence (``edivisive``, E-divisive means); a permutation test of the segment's order gives
the split's p-value; a significant split cuts the segment in two and each half is searched
again. p-values of every tested split are then corrected together (Holm or Benjamini-Hochberg),
and a split is kept only when it stays significant and the split that made its segment is kept.
Values are compared on a log scale by default, so a step is a ratio.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from calibrax.analysis._common import AnalysisError, finite_array
from calibrax.core.models import canonical_params
from calibrax.core.result import RunRecord

__all__ = [
    "Changepoint",
    "ChangepointResult",
    "HistoryPoint",
    "detect_changepoints",
    "detect_changepoints_many",
    "history_from_runs",
    "screen_histories",
]

Method = Literal["binseg", "edivisive"]
Correction = Literal["holm", "bh"]
Profile = Callable[[NDArray[np.float64], int], NDArray[np.float64]]


@dataclass(frozen=True)
class HistoryPoint:
    """One run in a benchmark's history.

    Attributes:
        run_id: the run's id.
        value: the run's summary value of the measure (its median).
        commit: the git commit the run measured, when known.
    """

    run_id: str
    value: float
    commit: str | None = None


@dataclass(frozen=True)
class Changepoint:
    """A shift in level between two segments of the history.

    Attributes:
        index: position in the history of the first run after the shift.
        run_id: that run's id.
        commit: that run's commit (the first commit measured at the new level).
        before: median of the values of the segment before the shift.
        after: median of the values of the segment after it.
        relative_change: ``after / before - 1`` (0.05 is a 5% increase; inf when ``before`` is
            0, which only a linear-scale history can have).
        p_value: permutation p-value after correction over every tested split.
        raw_p_value: the permutation p-value of the split before correction.
        statistic: the split statistic (max |Welch t| or the E-divisive divergence).
    """

    index: int
    run_id: str
    commit: str | None
    before: float
    after: float
    relative_change: float
    p_value: float
    raw_p_value: float
    statistic: float


@dataclass(frozen=True)
class ChangepointResult:
    """The changepoints found in a history, and how they were searched for.

    Attributes:
        changepoints: the significant changepoints, by index.
        method: ``binseg`` or ``edivisive``.
        alpha: significance level after correction.
        correction: ``holm`` or ``bh``.
        n_tested: how many splits were tested (the size of the correction).
        n: length of the history.
    """

    changepoints: tuple[Changepoint, ...]
    method: Method
    alpha: float
    correction: Correction
    n_tested: int
    n: int


def _welch_profile(z: NDArray[np.float64], min_size: int) -> NDArray[np.float64]:
    """|Welch t| between ``z[..., :k]`` and ``z[..., k:]`` for ``k`` in ``[min_size, m - min_size]``."""
    m = z.shape[-1]
    z = z - z.mean(axis=-1, keepdims=True)
    # Segments without spread would give 0/0 or x/0; a floor far below any real noise keeps the
    # statistic finite (scipy's permutation test compares it with a relative tolerance).
    tiny = 1e-12 * (np.abs(z).max(axis=-1, keepdims=True) + 1e-300)
    c1 = np.cumsum(z, axis=-1)
    c2 = np.cumsum(np.multiply(z, z, out=z), axis=-1, out=z)
    s1_l, s2_l = c1[..., min_size - 1:m - min_size], c2[..., min_size - 1:m - min_size]
    s1_r, s2_r = c1[..., -1:] - s1_l, c2[..., -1:] - s2_l
    k = np.arange(min_size, m - min_size + 1)
    n_l, n_r = k.astype(float), (m - k).astype(float)
    mean_l, mean_r = s1_l / n_l, np.divide(s1_r, n_r, out=s1_r)
    var_l = _spread(s2_l - n_l * np.square(mean_l), n_l)
    var_r = _spread(np.subtract(s2_r, n_r * np.square(mean_r), out=s2_r), n_r)
    diff = np.abs(np.subtract(mean_r, mean_l, out=mean_r), out=mean_r)
    se = np.sqrt(np.add(var_l, var_r, out=var_l), out=var_l)
    t = np.divide(diff, np.maximum(se, tiny, out=se), out=se)
    t[diff <= np.broadcast_to(tiny, diff.shape)] = 0.0
    return t


def _spread(ss: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max(ss, 0) / (n - 1) / n`` in place: a side's variance over its size, from its centred sum of squares."""
    np.maximum(ss, 0.0, out=ss)
    ss /= n - 1
    ss /= n
    return ss


def _energy_profile(z: NDArray[np.float64], min_size: int) -> NDArray[np.float64]:
    """Scaled E-divisive divergence ``k (m-k) / m * E`` for each split ``k`` (exponent 1)."""
    m = z.shape[-1]
    dist = np.abs(z[..., :, None] - z[..., None, :])
    pre = np.zeros((*z.shape[:-1], m + 1, m + 1))
    pre[..., 1:, 1:] = np.cumsum(np.cumsum(dist, axis=-1), axis=-2)
    k = np.arange(min_size, m - min_size + 1)
    within_l = pre[..., k, k]
    between = pre[..., k, m] - within_l
    within_r = pre[..., m, m][..., None] - pre[..., k, m] - pre[..., m, k] + within_l
    n_l, n_r = k.astype(float), (m - k).astype(float)
    energy = 2 * between / (n_l * n_r) - within_l / (n_l * (n_l - 1)) - within_r / (n_r * (n_r - 1))
    return np.asarray(n_l * n_r / m * energy, dtype=float)


_PROFILES: dict[str, Profile] = {"binseg": _welch_profile, "edivisive": _energy_profile}


def _adjust(p: NDArray[np.float64], correction: Correction) -> NDArray[np.float64]:
    """Holm step-down or Benjamini-Hochberg adjusted p-values.

    Benjamini-Hochberg is computed as ``scipy.stats.false_discovery_control`` computes it (the
    same values), without its input checks, which cost more than the adjustment of a few splits.
    """
    order = np.argsort(p)
    if correction == "bh":
        if p.size <= 1:
            return p.copy()
        ranked = p[order] * (p.size / np.arange(1, p.size + 1, dtype=float))
        np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
        out = np.empty_like(p)
        out[order] = ranked
        return np.clip(out, 0.0, 1.0)
    scaled = np.maximum.accumulate((p.size - np.arange(p.size)) * p[order])
    out = np.empty_like(p)
    out[order] = np.minimum(scaled, 1.0)
    return out


_SCIPY_BATCH = 256  # orderings per draw, as ``scipy.stats.permutation_test(batch=256)`` draws them
_BLOCK_VALUES = 1 << 15  # values of permuted segments scored per block: a block stays in cache


_DRAWN: dict[tuple[Any, ...], tuple[NDArray[np.intp], Mapping[str, Any]]] = {}  # see _orderings
_DRAWN_MAX_ENTRIES, _DRAWN_MAX_BYTES = 128, 1 << 20


def _orderings(m: int, n_permutations: int, rng: np.random.Generator) -> tuple[NDArray[np.intp], bool]:
    """The orderings of a segment of ``m`` runs that the permutation test scores, and whether
    they are all of them (an exact test).

    They are drawn exactly as ``scipy.stats.permutation_test(permutation_type="pairings",
    batch=256)`` draws them from ``rng`` (every ordering once when there are no more than
    ``n_permutations``), so a seed gives the same p-values as that function, at a fraction of
    its cost: the orderings are scored in a few large blocks instead of one call per batch.
    Draws are remembered by the generator's state: many histories searched with one seed draw
    the same orderings for their first split (and for later splits of equal sizes), so they
    are drawn once and the generator is moved on to where drawing them would have left it.
    """
    if n_permutations >= math.factorial(m):
        return np.asarray(list(itertools.permutations(range(m))), dtype=np.intp), True
    key = (*_state_key(rng), m, n_permutations)
    known = _DRAWN.get(key)
    if known is not None:
        rng.bit_generator.state = known[1]
        return known[0], False
    batch = min(_SCIPY_BATCH, n_permutations)
    tiled = np.tile(np.arange(m), (batch, 1, 1))
    drawn = np.concatenate([rng.permuted(tiled, axis=-1)[: min(batch, n_permutations - k), 0]
                            for k in range(0, n_permutations, batch)])
    if drawn.nbytes <= _DRAWN_MAX_BYTES:
        if len(_DRAWN) >= _DRAWN_MAX_ENTRIES:
            _DRAWN.clear()
        drawn.flags.writeable = False
        _DRAWN[key] = (drawn, rng.bit_generator.state)
    return drawn, False


def _state_key(rng: np.random.Generator) -> tuple[Any, ...]:
    """The generator's state as a dictionary key: equal keys draw equal orderings."""
    state = rng.bit_generator.state
    return state["bit_generator"], str(state["state"]), state.get("has_uint32"), state.get("uinteger")


def _permutation_p(seg: NDArray[np.float64], observed: float, profile: Profile, min_size: int,
                   n_permutations: int, rng: np.random.Generator) -> float:
    """The permutation p-value of the largest split statistic of ``seg`` (one-sided, greater).

    All orderings are scored at once, in blocks of a (orderings x runs) matrix, with the
    comparison scipy makes: a null statistic counts when it is at least ``observed`` less a
    relative tolerance of 100 machine epsilons, and a Monte Carlo p-value adds one to both counts.
    """
    order, exact = _orderings(seg.size, n_permutations, rng)
    per_row = seg.size * (seg.size if profile is _energy_profile else 1)
    rows = max(1, _BLOCK_VALUES // per_row)
    floor = observed - abs(np.finfo(np.float64).eps * 100 * observed)
    count = sum(int(np.count_nonzero(profile(seg[order[i:i + rows]], min_size).max(axis=-1) >= floor))
                for i in range(0, len(order), rows))
    extra = 0 if exact else 1
    return min(max((count + extra) / (len(order) + extra), 0.0), 1.0)


def _test_split(
    seg: NDArray[np.float64], profile: Profile, min_size: int, n_permutations: int, rng: np.random.Generator
) -> tuple[int, float, float]:
    """The best split of ``seg`` (offset within it), its statistic and permutation p-value."""
    prof = profile(seg, min_size)
    k = int(np.argmax(prof))
    return min_size + k, float(prof[k]), _permutation_p(seg, float(prof[k]), profile, min_size, n_permutations, rng)


def _search(
    z: NDArray[np.float64], profile: Profile, min_size: int, n_permutations: int, alpha: float, seed: int
) -> list[tuple[int, float, float, int | None]]:
    """Binary segmentation: every tested split as (index, statistic, raw p, parent position)."""
    rng = np.random.default_rng(seed)
    tested: list[tuple[int, float, float, int | None]] = []
    queue: list[tuple[int, int, int | None]] = [(0, z.size, None)]
    while queue:
        start, end, parent = queue.pop(0)
        if end - start < 2 * min_size:
            continue
        k, stat, p = _test_split(z[start:end], profile, min_size, n_permutations, rng)
        tested.append((start + k, stat, p, parent))
        if p < alpha:  # an adjusted p is never smaller, so other splits cannot survive correction
            me = len(tested) - 1
            queue += [(start, start + k, me), (start + k, end, me)]
    return tested


_BATCH_VALUES = 1 << 16  # values of permuted segments of several histories scored per block (a block stays in L2)


def _search_many(zs: Sequence[NDArray[np.float64]], profile: Profile, min_size: int, n_permutations: int,
                 alpha: float, seed: int) -> list[list[tuple[int, float, float, int | None]]]:
    """:func:`_search` of each history, with the splits of many histories tested at once.

    Each history keeps its own queue and generator, so it tests the same splits against the
    same orderings as alone. In each round every history tests its next segment; segments of
    one size whose generators are in one state (the same seed, the same sizes before) share
    their orderings, so they are scored together (:func:`_permutation_ps`) and the generators
    are all moved on to where drawing the orderings leaves one of them.
    """
    rngs = [np.random.default_rng(seed) for _ in zs]
    tested: list[list[tuple[int, float, float, int | None]]] = [[] for _ in zs]
    queues: list[list[tuple[int, int, int | None]]] = [[(0, z.size, None)] for z in zs]
    while True:
        groups: dict[tuple[Any, ...], list[tuple[int, int, int, int | None]]] = {}
        for h, queue in enumerate(queues):
            while queue:
                start, end, parent = queue.pop(0)
                if end - start >= 2 * min_size:
                    groups.setdefault((*_state_key(rngs[h]), end - start), []).append((h, start, end, parent))
                    break
        if not groups:
            return tested
        for (*_, m), items in groups.items():
            first = rngs[items[0][0]]
            order, exact = _orderings(m, n_permutations, first)
            for h, *_ in items[1:]:
                rngs[h].bit_generator.state = first.bit_generator.state
            segs = np.stack([zs[h][start:end] for h, start, end, _ in items])
            prof = profile(segs, min_size)
            ks = np.argmax(prof, axis=-1)
            observed = prof[np.arange(len(items)), ks]
            ps = _permutation_ps(segs, observed, order, exact, profile, min_size)
            for (h, start, end, parent), k, stat, p in zip(items, ks.tolist(), observed.tolist(), ps, strict=True):
                tested[h].append((start + min_size + k, stat, p, parent))
                if p < alpha:
                    me = len(tested[h]) - 1
                    queues[h] += [(start, start + min_size + k, me), (start + min_size + k, end, me)]


def _permutation_ps(segs: NDArray[np.float64], observed: NDArray[np.float64], order: NDArray[np.intp], exact: bool,
                    profile: Profile, min_size: int) -> list[float]:
    """:func:`_permutation_p` of each row of ``segs`` (one segment of each history) against the
    same orderings: several histories' permuted segments per block when one history's fit in
    a block of the loop, else each history in the loop's blocks of orderings."""
    m = segs.shape[-1]
    per_row = m * (m if profile is _energy_profile else 1)
    floors = observed - np.abs(np.finfo(np.float64).eps * 100 * observed)
    counts = np.zeros(len(segs), dtype=np.int64)
    rows = max(1, _BLOCK_VALUES // per_row)
    if rows >= len(order):
        per_block = max(1, _BATCH_VALUES // (per_row * len(order)))
        for g in range(0, len(segs), per_block):
            # np.take of the rows' orderings: a fancy index [:, order] of a 2-D block costs several times more
            scores = profile(np.take(segs[g:g + per_block], order, axis=1), min_size).max(axis=-1)
            counts[g:g + per_block] = np.count_nonzero(scores >= floors[g:g + per_block, None], axis=-1)
    else:
        for g, seg in enumerate(segs):
            counts[g] = sum(int(np.count_nonzero(profile(seg[order[i:i + rows]], min_size).max(axis=-1) >= floors[g]))
                            for i in range(0, len(order), rows))
    extra = 0 if exact else 1
    return [min(max((int(c) + extra) / (len(order) + extra), 0.0), 1.0) for c in counts]


def _as_points(history: Sequence[HistoryPoint | float]) -> list[HistoryPoint]:
    return [h if isinstance(h, HistoryPoint) else HistoryPoint(str(i), float(h)) for i, h in enumerate(history)]


def detect_changepoints(
    history: Sequence[HistoryPoint | float],
    *,
    method: Method = "binseg",
    alpha: float = 0.01,
    min_size: int = 5,
    n_permutations: int = 4999,
    correction: Correction = "holm",
    log: bool = True,
    seed: int = 0,
) -> ChangepointResult:
    """Find the runs where a benchmark's level shifted, with the size and p-value of each shift.

    Args:
        history: per-run medians in run order, as HistoryPoints (or bare values, whose run ids
            become their positions).
        method: ``binseg`` (split by max |Welch t|) or ``edivisive`` (E-divisive means).
        alpha: significance level after correction.
        min_size: fewest runs in a segment; a history shorter than ``2 * min_size`` has none.
        n_permutations: random orderings per permutation test (the smallest possible p-value is
            ``1 / (n_permutations + 1)``).
        correction: ``holm`` (family-wise) or ``bh`` (false discovery rate) over tested splits.
        log: compare log values (a step is a ratio); values must then be positive.
        seed: seed of the permutations; equal inputs and seeds give equal results.

    Example:
        >>> values = [1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.01, 1.00,
        ...           1.10, 1.11, 1.09, 1.10, 1.12, 1.08, 1.11, 1.10]
        >>> cp = detect_changepoints(values, n_permutations=999).changepoints
        >>> [(c.index, round(c.relative_change, 3)) for c in cp]
        [(8, 0.1)]

    References:
        Scott and Knott, "A cluster analysis method for grouping means in the analysis of
        variance", Biometrics 30, 1974 (binary segmentation); Matteson and James, "A
        nonparametric approach for multiple change point analysis of multivariate data", JASA
        109, 2014 (E-divisive); Daly et al., "The use of change point detection to identify
        software performance regressions", ICPE 2020; Holm, Scand. J. Stat. 6, 1979;
        Benjamini and Hochberg, JRSS B 57, 1995.
    """
    _check_search(method, correction, alpha, min_size, n_permutations)
    points, values, z = _prepared(history, log)
    tested = _search(z, _PROFILES[method], min_size, n_permutations, alpha, seed)
    return _result(points, values, tested, method, alpha, correction)


def detect_changepoints_many(
    histories: Sequence[Sequence[HistoryPoint | float]],
    *,
    method: Method = "binseg",
    alpha: float = 0.01,
    min_size: int = 5,
    n_permutations: int = 4999,
    correction: Correction = "holm",
    log: bool = True,
    seed: int = 0,
) -> list[ChangepointResult]:
    """:func:`detect_changepoints` of many histories: equal to ``[detect_changepoints(h, ...)
    for h in histories]`` (the same splits, p-values and changepoints), in less time.

    Each history draws its permutations from its own generator seeded with ``seed``, as alone;
    the splits of histories whose segments have one length and whose generators are in one
    state (the first split of every history of one length, and later splits of equal sizes)
    are scored against their shared orderings together, in blocks of several histories.

    Args:
        histories: each history's per-run medians in run order, as for :func:`detect_changepoints`.
        method, alpha, min_size, n_permutations, correction, log, seed: as for
            :func:`detect_changepoints`, the same for every history.

    Raises:
        AnalysisError: a setting is invalid, or a history has a value that is not finite (or
            not positive with ``log``); the message names the history's position.

    Example:
        >>> flat = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.01, 1.0, 0.99, 1.01, 1.0, 0.99]
        >>> step = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.21, 1.2, 1.19, 1.21, 1.2, 1.19]
        >>> [[c.index for c in r.changepoints] for r in detect_changepoints_many([flat, step], n_permutations=999)]
        [[], [6]]

    References:
        As :func:`detect_changepoints`: Scott and Knott, Biometrics 30, 1974; Matteson and
        James, JASA 109, 2014; Holm, Scand. J. Stat. 6, 1979; Benjamini and Hochberg, JRSS B
        57, 1995.
    """
    _check_search(method, correction, alpha, min_size, n_permutations)
    prepared = []
    for i, history in enumerate(histories):
        try:
            prepared.append(_prepared(history, log))
        except AnalysisError as error:
            raise AnalysisError(f"History {i}: {error}") from error
    found = _search_many([z for _, _, z in prepared], _PROFILES[method], min_size, n_permutations, alpha, seed)
    return [_result(points, values, tested, method, alpha, correction)
            for (points, values, _), tested in zip(prepared, found, strict=True)]


def _check_search(method: str, correction: str, alpha: float, min_size: int, n_permutations: int) -> None:
    """Raise AnalysisError for a setting of the changepoint search that is out of range."""
    if method not in _PROFILES:
        raise AnalysisError(f"method must be 'binseg' or 'edivisive', got {method!r}.")
    if correction not in ("holm", "bh"):
        raise AnalysisError(f"correction must be 'holm' or 'bh', got {correction!r}.")
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must be between 0 and 1, got {alpha}.")
    if min_size < 2:
        raise AnalysisError(f"min_size must be at least 2 (a segment needs a variance), got {min_size}.")
    if n_permutations < 1:
        raise AnalysisError(f"n_permutations must be at least 1, got {n_permutations}.")


def _prepared(history: Sequence[HistoryPoint | float],
              log: bool) -> tuple[list[HistoryPoint], NDArray[np.float64], NDArray[np.float64]]:
    """The history's points, their values and the values the search compares (logs with ``log``)."""
    points = _as_points(history)
    values = finite_array([p.value for p in points], "History values", positive=log) if points else np.empty(0)
    return points, values, np.log(values) if log else values


def _result(points: Sequence[HistoryPoint], values: NDArray[np.float64],
            tested: Sequence[tuple[int, float, float, int | None]], method: Method, alpha: float,
            correction: Correction) -> ChangepointResult:
    """The changepoints kept from the tested splits: significant after correction, with their parent kept."""
    adjusted = _adjust(np.array([t[2] for t in tested]), correction) if tested else np.empty(0)
    kept: set[int] = set()
    for i, (_, _, _, parent) in enumerate(tested):  # parents are tested before their children
        if adjusted[i] < alpha and (parent is None or parent in kept):
            kept.add(i)
    cuts = sorted(tested[i][0] for i in kept)
    bounds = [0, *cuts, len(points)]
    found = []
    for j, i in enumerate(sorted(kept, key=lambda i: tested[i][0])):
        idx, stat, raw, _ = tested[i]
        before = float(np.median(values[bounds[j]:idx]))
        after = float(np.median(values[idx:bounds[j + 2]]))
        change = after / before - 1 if before != 0 else float("inf")
        found.append(Changepoint(idx, points[idx].run_id, points[idx].commit, before, after, change,
                                 float(adjusted[i]), raw, stat))
    return ChangepointResult(tuple(found), method, alpha, correction, len(tested), len(points))


def screen_histories(
    histories: Sequence[Sequence[float]],
    *,
    alpha: float = 0.1,
    min_size: int = 5,
    n_permutations: int = 99,
    log: bool = True,
    seed: int = 0,
) -> list[bool]:
    """A fast pre-test of many histories: which could hold a changepoint worth searching for.

    For each history, the first split that :func:`detect_changepoints` (``binseg``) would test is
    tested with a coarse permutation test, all histories of one length at once with shared
    permutations. Binary segmentation looks further only when that first split is significant,
    so a history whose first split is not even significant at the coarse ``alpha`` has no
    changepoint at a much smaller level, and the full search can be skipped for it.

    Args:
        histories: per-run values of each history, in run order; histories shorter than
            ``2 * min_size`` or with values that are not finite (or not positive with ``log``)
            are never flagged.
        alpha: the coarse significance level (keep it well above the full search's).
        min_size: fewest runs in a segment, as in :func:`detect_changepoints`.
        n_permutations: random orderings shared by the histories of one length.
        log: compare log values, as in :func:`detect_changepoints`.
        seed: seed of the permutations.

    Example:
        >>> flat = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.01, 1.0, 0.99, 1.01, 1.0, 0.99]
        >>> step = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.21, 1.2, 1.19, 1.21, 1.2, 1.19]
        >>> screen_histories([flat, step, [1.0, 2.0]])
        [False, True, False]

    References:
        Scott and Knott, Biometrics 30, 1974 (binary segmentation); Good, "Permutation, Parametric
        and Bootstrap Tests of Hypotheses", 3rd ed., Springer, 2005 (Monte Carlo permutation tests).
    """
    if min_size < 2:
        raise AnalysisError(f"min_size must be at least 2 (a segment needs a variance), got {min_size}.")
    if n_permutations < 1:
        raise AnalysisError(f"n_permutations must be at least 1, got {n_permutations}.")
    flagged = [False] * len(histories)
    by_length: dict[int, list[int]] = {}
    for i, values in enumerate(histories):
        v = np.asarray(values, dtype=float)
        if v.size >= 2 * min_size and np.all(np.isfinite(v)) and (not log or np.all(v > 0)):
            by_length.setdefault(int(v.size), []).append(i)
    rng = np.random.default_rng(seed)
    for m, members in by_length.items():
        z = np.asarray([histories[i] for i in members], dtype=float)
        z = np.log(z) if log else z
        observed = _welch_profile(z, min_size).max(axis=-1)
        order = np.argsort(rng.random((n_permutations, m)), axis=1)
        per_block = max(1, _BLOCK_VALUES // (n_permutations * m))  # histories scored at once
        exceed = np.concatenate([
            (_welch_profile(z[i:i + per_block, order], min_size).max(axis=-1)
             >= observed[i:i + per_block, None] * (1 - 1e-12)).sum(axis=1)
            for i in range(0, len(members), per_block)])
        for i, p in zip(members, (exceed + 1) / (n_permutations + 1), strict=True):
            flagged[i] = bool(p < alpha)
    return flagged


def history_from_runs(
    runs: Sequence[RunRecord], benchmark: str, params: Mapping[str, Any] | None = None, measure: str = "time"
) -> tuple[HistoryPoint, ...]:
    """The history of one case and measure: one point per run that measured it, in run order.

    Each point's value is the median of the measure's samples in that run; runs without the
    case, with a failed case or without samples are skipped.

    Example:
        >>> from calibrax.core import CaseResult, CaseStatus, MeasureResult, RunInfo, RunStatus
        >>> from calibrax.core import GitInfo, STANDARD_MEASURES
        >>> def run(i, t):
        ...     m = MeasureResult(STANDARD_MEASURES["time"], (t, t))
        ...     case = CaseResult("matmul", {"n": 64}, CaseStatus.OK, {"time": m})
        ...     return RunRecord(RunInfo(f"r{i}", "", RunStatus.OK, GitInfo(f"c{i}")), (case,))
        >>> history_from_runs([run(0, 1.0), run(1, 2.0)], "matmul", {"n": 64})[1]
        HistoryPoint(run_id='r1', value=2.0, commit='c1')
    """
    key = f"{benchmark}{canonical_params(params or {})}"
    out = []
    for record in runs:
        for case in record.cases:
            result = case.measures.get(measure)
            if case.key == key and case.status.value == "ok" and result is not None and result.samples:
                out.append(HistoryPoint(record.run.id, float(np.median(result.samples)), record.run.git.commit))
                break
    return tuple(out)
