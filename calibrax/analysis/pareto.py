"""Pareto analysis over any number of objectives, each lower- or higher-is-better.

Points are sorted into non-dominated fronts (front 0 is the Pareto front), and each point gets
its crowding distance within its front, which says how isolated it is from its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibrax.analysis._common import AnalysisError, as_direction, finite_array
from calibrax.core.models import Direction, Measure

__all__ = [
    "Objective",
    "ParetoAnalysis",
    "ParetoPoint",
    "crowding_distance",
    "dominates",
    "non_dominated_sort",
    "pareto_analysis",
]


@dataclass(frozen=True)
class Objective:
    """One axis of a Pareto analysis.

    Attributes:
        name: what is measured on this axis (for example ``time`` or ``accuracy``).
        direction: ``lower`` or ``higher`` is better; ``info`` is refused.
    """

    name: str
    direction: Direction


ObjectiveLike = Objective | Measure | Direction | str


@dataclass(frozen=True)
class ParetoPoint:
    """One input point with its place in the fronts.

    Attributes:
        label: the name given with the point.
        values: its objective values, in the order of the objectives.
        front: 0 for the Pareto front, 1 for the front below it, and so on.
        crowding: crowding distance within its front (``inf`` at the extremes of the front).
        dominated_by: how many points dominate it.
    """

    label: str
    values: tuple[float, ...]
    front: int
    crowding: float
    dominated_by: int


@dataclass(frozen=True)
class ParetoAnalysis:
    """The result of :func:`pareto_analysis`.

    Attributes:
        objectives: the objectives, in the order of each point's values.
        points: every point, in input order.
        fronts: for each front, the indices into ``points`` of its members, in input order.
    """

    objectives: tuple[Objective, ...]
    points: tuple[ParetoPoint, ...]
    fronts: tuple[tuple[int, ...], ...]

    @property
    def first_front(self) -> tuple[ParetoPoint, ...]:
        """The non-dominated points (front 0), in input order."""
        return self.front(0)

    def front(self, k: int) -> tuple[ParetoPoint, ...]:
        """The points of front ``k``, in input order."""
        if not 0 <= k < len(self.fronts):
            raise AnalysisError(f"There are {len(self.fronts)} fronts (0 to {len(self.fronts) - 1}); got front {k}.")
        return tuple(self.points[i] for i in self.fronts[k])


def _objective(item: ObjectiveLike, i: int) -> Objective:
    if isinstance(item, Objective):
        return Objective(item.name, as_direction(item.direction, f"Objective {item.name!r}"))
    if isinstance(item, Measure):
        return Objective(item.name, as_direction(item.direction, f"Objective {item.name!r}"))
    return Objective(f"objective_{i}", as_direction(item, f"Objective {i}"))


def _minimised(values: ArrayLike, directions: Sequence[Direction]) -> NDArray[np.float64]:
    """The values with higher-is-better axes negated, so that lower is better on every axis."""
    x = finite_array(values, "Pareto point values", ndim=2)
    if x.shape[1] != len(directions):
        raise AnalysisError(
            f"Each point needs one value per objective: {len(directions)} objectives, "
            f"but the points have {x.shape[1]} values."
        )
    signs = np.array([-1.0 if d is Direction.HIGHER else 1.0 for d in directions])
    return x * signs


def _dominance_matrix(x: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``m[i, j]`` is True when point i dominates point j (all objectives minimised)."""
    # One objective at a time: (n, n) comparisons instead of an (n, n, k) array reduced over k,
    # which was most of the time of a thousand-point sort.
    n = x.shape[0]
    le, lt = np.ones((n, n), dtype=bool), np.zeros((n, n), dtype=bool)
    for col in x.T:
        le &= col[:, None] <= col[None, :]
        lt |= col[:, None] < col[None, :]
    return le & lt


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[Direction | str]) -> bool:
    """Return True when point ``a`` dominates point ``b``.

    ``a`` dominates ``b`` when it is at least as good on every objective and strictly better on
    one. Equal points do not dominate each other.

    Example:
        >>> dominates([1.0, 5.0], [2.0, 5.0], ["lower", "higher"])
        True
        >>> dominates([1.0, 5.0], [1.0, 5.0], ["lower", "higher"])
        False

    References:
        Deb, Multi-Objective Optimization Using Evolutionary Algorithms (Wiley, 2001), ch. 2.
    """
    dirs = [as_direction(d, f"Objective {i}") for i, d in enumerate(directions)]
    x = _minimised([list(a), list(b)], dirs)
    return bool(np.all(x[0] <= x[1]) and np.any(x[0] < x[1]))


def non_dominated_sort(values: ArrayLike, directions: Sequence[Direction | str]) -> list[list[int]]:
    """Sort points into non-dominated fronts (fast non-dominated sort).

    Front 0 holds the points no other point dominates; front k holds those dominated only by
    points in fronts before k. Duplicate points land in the same front.

    Args:
        values: shape ``(n_points, n_objectives)``.
        directions: for each objective, ``lower`` or ``higher`` is better.

    Returns:
        The fronts, each a list of point indices in increasing order.

    Example:
        >>> non_dominated_sort([[1, 4], [2, 2], [3, 3], [4, 1], [1, 4]], ["lower", "lower"])
        [[0, 1, 3, 4], [2]]

    References:
        Deb, Pratap, Agarwal and Meyarivan, "A fast and elitist multiobjective genetic algorithm:
        NSGA-II", IEEE Trans. Evol. Comput. 6(2), 2002.
    """
    dirs = [as_direction(d, f"Objective {i}") for i, d in enumerate(directions)]
    x = _minimised(values, dirs) if len(np.asarray(values)) else np.empty((0, len(dirs)))
    return _fronts(_dominance_matrix(x))


def _fronts(dom: NDArray[np.bool_]) -> list[list[int]]:
    """The non-dominated fronts of the points of a dominance matrix (see :func:`non_dominated_sort`)."""
    count = dom.sum(axis=0)  # how many points dominate each point
    current = np.flatnonzero(count == 0)
    fronts: list[list[int]] = []
    while current.size:
        fronts.append([int(i) for i in current])
        count = count - dom[current].sum(axis=0)
        count[current] = -1  # placed: never picked again
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(values: ArrayLike) -> NDArray[np.float64]:
    """Crowding distance of each point of one front.

    For each objective, a point's gap is the distance between the nearest distinct values below
    and above it, divided by the objective's range; the distance is the sum of gaps. Points at
    the minimum or maximum of any objective get ``inf``, and so does every point of a front with
    at most two distinct points. Duplicates get equal distances and the result does not depend
    on the order of the points. An objective with no spread adds nothing.

    Example:
        >>> crowding_distance([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0]]).tolist()
        [inf, 2.0, inf]

    References:
        Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE Trans.
        Evol. Comput. 6(2), 2002, section III-B.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise AnalysisError(f"crowding_distance needs shape (n_points, n_objectives), got {x.shape}.")
    if np.unique(x, axis=0).shape[0] <= 2:  # every distinct point is an extreme
        return np.full(x.shape[0], np.inf)
    dist = np.zeros(x.shape[0])
    for col in x.T:
        levels = np.unique(col)
        span = levels[-1] - levels[0] if levels.size else 0.0
        if span == 0:
            continue
        pos = np.searchsorted(levels, col)
        edge = (pos == 0) | (pos == levels.size - 1)
        inner = np.where(edge, 0, pos)
        gap = (levels[np.minimum(inner + 1, levels.size - 1)] - levels[np.maximum(inner - 1, 0)]) / span
        dist += np.where(edge, np.inf, gap)
    return dist


def pareto_analysis(
    points: ArrayLike,
    objectives: Sequence[ObjectiveLike],
    labels: Sequence[str] | None = None,
) -> ParetoAnalysis:
    """Sort labelled points into Pareto fronts with crowding distances.

    Args:
        points: shape ``(n_points, n_objectives)``, one row per configuration.
        objectives: one per column: an Objective, a Measure, or a bare direction
            (``"lower"``/``"higher"``); ``info`` objectives are refused.
        labels: one per point; defaults to ``"0"``, ``"1"``, ...

    Example:
        >>> res = pareto_analysis([[0.10, 0.90], [0.20, 0.95], [0.30, 0.90]],
        ...                       [Objective("time", Direction.LOWER), Objective("acc", Direction.HIGHER)],
        ...                       labels=["small", "large", "slow"])
        >>> [p.label for p in res.first_front], [p.front for p in res.points]
        (['small', 'large'], [0, 0, 1])

    References:
        Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE Trans.
        Evol. Comput. 6(2), 2002.
    """
    objs = tuple(_objective(o, i) for i, o in enumerate(objectives))
    if not objs:
        raise AnalysisError("pareto_analysis needs at least one objective, got none.")
    x = np.asarray(points, dtype=float)
    if x.size == 0:
        raise AnalysisError("pareto_analysis needs at least one point, got none.")
    dirs = [o.direction for o in objs]
    xm = _minimised(x, dirs)
    names = [str(i) for i in range(len(xm))] if labels is None else [str(s) for s in labels]
    if len(names) != len(xm):
        raise AnalysisError(f"Got {len(xm)} points but {len(names)} labels; give one label per point.")
    dom = _dominance_matrix(xm)
    fronts = _fronts(dom)
    dominated_by = dom.sum(axis=0)
    front_of = np.empty(len(xm), dtype=int)
    crowd = np.empty(len(xm))
    for k, members in enumerate(fronts):
        front_of[members] = k
        crowd[members] = crowding_distance(xm[members])
    pts = tuple(
        ParetoPoint(names[i], tuple(float(v) for v in x[i]), int(front_of[i]), float(crowd[i]), int(dominated_by[i]))
        for i in range(len(xm))
    )
    return ParetoAnalysis(objs, pts, tuple(tuple(f) for f in fronts))
