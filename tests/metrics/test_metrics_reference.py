"""Every metric with a reference agrees with it on seeded random inputs, eagerly and jitted,
and its jitted value equals its eager one.

A row names its inputs by role; the reference gets them in the row's order and the metric, through
``calibrax.metrics.compute``, in the order its registry entry declares. A registry entry whose
declared roles disagree with what its function computes therefore fails here.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import pytest
from metric_cases import CASES, SEEDS, Case, jitted

from calibrax import metrics

JIT_TOL = {"rtol": 2e-4, "atol": 2e-5}  # jit and eager run the same operations; XLA may fuse them


def _is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _check(name: str, c: Case, seed: int, dtype: type, rtol: float, atol: float, eager: bool = True) -> None:
    entry = metrics.get(name)
    named, kwargs = c.draw(np.random.default_rng(seed))
    options = {**kwargs, **c.extra}
    assert c.reference is not None, f"{name}: a reference row needs a reference"
    expected = np.asarray(c.reference(*[np.asarray(x, np.float64) if _is_float(x) else x for x in named.values()],
                                      **{k: v for k, v in kwargs.items() if k not in c.extra}))
    inputs = entry.order_inputs({role: x.astype(dtype) if _is_float(x) else x for role, x in named.items()})
    value = np.asarray(metrics.compute(name, *inputs, **options)) if eager else None
    if value is not None:
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, err_msg=f"{name} eager, seed {seed}")
    if entry.jit_compatible:
        through_jit = np.asarray(jitted(name, options, np.dtype(dtype).name)(*inputs))
        np.testing.assert_allclose(through_jit, expected, rtol=rtol, atol=atol, err_msg=f"{name} jit, seed {seed}")
        if value is not None:
            np.testing.assert_allclose(through_jit, value, **JIT_TOL, err_msg=f"{name} jit against eager, seed {seed}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_float32(name: str) -> None:
    c = CASES[name]
    for seed in SEEDS:
        _check(name, c, seed, np.float32, c.rtol, c.atol)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.x64))
def test_matches_reference_float64_jitted(name: str) -> None:
    # float32 runs check eager and jitted; here the jitted float64 value must match to 1e-10
    with jax.enable_x64(True):
        _check(name, CASES[name], SEEDS[0], np.float64, 1e-10, 1e-10, eager=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rows_name_the_inputs_their_metric_declares(name: str) -> None:
    assert sorted(CASES[name].inputs) == sorted(metrics.get(name).inputs), (
        f"{name}: the row names inputs {CASES[name].inputs}; the registry entry declares {metrics.get(name).inputs}"
    )


def test_every_registered_builtin_has_a_reference_row() -> None:
    # tiers 1 and 2 hold state or weights; test_stateful.py and test_perceptual.py check them
    builtins = {e.name for e in metrics.list_metrics() if e.builtin and e.tier not in (metrics.Tier.FROZEN,
                                                                                      metrics.Tier.LEARNED)}
    missing = sorted(builtins - set(CASES))
    assert not missing, f"metrics without a reference row: {missing}"
