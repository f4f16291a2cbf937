"""The row type, the table every domain module fills, and input helpers they share.

A row names its inputs: ``inputs`` gives the role of each value that ``make`` returns, in the
order its ``reference`` takes them (scikit-learn's ``(y_true, y_pred)`` is ``TP``). The harness
passes the reference the values in that order and the metric the same values in the order its
registry entry declares, so a row never depends on the metric's own argument order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Inputs = tuple[tuple[Any, ...], dict[str, Any]]
Named = tuple[dict[str, Any], dict[str, Any]]  # (role -> input, in the reference's order), options

PT = ("predictions", "targets")
TP = ("targets", "predictions")  # scikit-learn's (y_true, y_pred) order
XY = ("x", "y")
PQ = ("p", "q")
FL = ("features", "labels")
X = ("x",)
PTG = ("predictions", "targets", "groups")
IV = ("lower", "upper", "targets")
GA = ("mean", "variance", "targets")
EL = ("embeddings", "labels")
Z = ("z1", "z2")
RG = ("real", "generated")  # the order of the published references (real first)


@dataclass(frozen=True)
class Case:
    inputs: tuple[str, ...]  # the role of each value make returns, in the reference's order
    make: Callable[[np.random.Generator], Inputs]
    reference: Callable[..., Any] | None
    rtol: float = 1e-5
    atol: float = 1e-5
    x64: bool = True  # also compare at 1e-10 with float64 inputs under jax.enable_x64
    extra: dict[str, Any] = field(default_factory=dict)

    def draw(self, rng: np.random.Generator) -> Named:
        """Seeded inputs by role (in the reference's order) and the options."""
        values, kwargs = self.make(rng)
        if len(values) != len(self.inputs):
            raise ValueError(f"make returned {len(values)} inputs but the row names {len(self.inputs)}: {self.inputs}")
        return dict(zip(self.inputs, values, strict=True)), kwargs


CASES: dict[str, Case] = {}


def case(name: str, inputs: tuple[str, ...], make: Callable[[np.random.Generator], Inputs],
         reference: Callable[..., Any] | None, **opts: Any) -> None:
    CASES[name] = Case(inputs, make, reference, **opts)


N = 64


def reg_pair(rng: np.random.Generator, n: int = N, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    if positive:
        return rng.uniform(0.2, 3.0, n), rng.uniform(0.2, 3.0, n)
    t = rng.normal(size=n)
    return (t + 0.5 * rng.normal(size=n)), t


def labels(rng: np.random.Generator, k: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, k, n))
    return p.astype(np.int32), t.astype(np.int32)


def probs(rng: np.random.Generator, k: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    t = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[t]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p, t.astype(np.int32)


def simplex(rng: np.random.Generator, k: int = 8, rows: tuple[int, ...] = ()) -> np.ndarray:
    x = rng.uniform(0.05, 1.0, (*rows, k))
    return (x / x.sum(axis=-1, keepdims=True))


def f32(*xs: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, np.float32) for x in xs)


SEEDS = (7, 1007, 2007)
"""The seeds of the generators each row draws its inputs from: the reference tests check every
row on all three, and the property tests draw from them too, so that their programs (same
metric, options, shapes and dtypes) are the ones the reference tests compiled. Compiling is most
of these tests' time; the session's persistent compilation cache shares it between workers."""

_JITTED: dict[str, Callable[..., Any]] = {}


def jitted(name: str, options: dict[str, Any], precision: str = "float32") -> Callable[..., Any]:
    """``calibrax.metrics.compute(name, ...)`` jitted once per metric, options and precision, and
    shared by the reference and property tests: their inputs come from the same rows, so one
    compile serves every seed and property a worker runs (a trace made without x64 is not reused
    with it)."""
    import jax

    from calibrax import metrics

    key = f"{name}:{precision}:{sorted((k, repr(v)) for k, v in options.items())!r}"
    if key not in _JITTED:
        _JITTED[key] = jax.jit(lambda *xs: metrics.compute(name, *xs, **options))
    return _JITTED[key]
