"""Every metric with a reference agrees with it on seeded random inputs, eagerly and jitted."""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
import pytest
from metric_cases import CASES, Case

from calibrax import metrics

SEEDS = range(3)


def _check(name: str, c: Case, seed: int, dtype: type, rtol: float, atol: float, eager: bool = True) -> None:
    entry = metrics.get(name)
    rng = np.random.default_rng(1000 * seed + 7)
    inputs, kwargs = c.make(rng)
    kwargs = {**kwargs, **c.extra}
    cast = tuple(x.astype(dtype) if np.issubdtype(np.asarray(x).dtype, np.floating) else x for x in inputs)
    expected = np.asarray(c.reference(*[np.asarray(x, np.float64) if np.issubdtype(np.asarray(x).dtype, np.floating)
                                        else x for x in inputs], **{k: v for k, v in kwargs.items() if k not in c.extra}))
    if eager:
        value = np.asarray(entry.function(*cast, **kwargs))
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, err_msg=f"{name} eager, seed {seed}")
    if entry.jit_compatible:
        jitted = np.asarray(jax.jit(partial(entry.function, **kwargs))(*cast))
        np.testing.assert_allclose(jitted, expected, rtol=rtol, atol=atol, err_msg=f"{name} jit, seed {seed}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_float32(name: str) -> None:
    c = CASES[name]
    for seed in SEEDS:
        _check(name, c, seed, np.float32, c.rtol, c.atol)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.x64))
def test_matches_reference_float64_jitted(name: str) -> None:
    # float32 runs check eager and jitted; here the jitted float64 value must match to 1e-10
    with jax.enable_x64(True):
        _check(name, CASES[name], 0, np.float64, 1e-10, 1e-10, eager=False)


def test_every_registered_builtin_has_a_reference_row() -> None:
    # tiers 1 and 2 hold state or weights; test_stateful.py and test_perceptual.py check them
    builtins = {e.name for e in metrics.list_metrics() if e.builtin and e.tier not in (metrics.Tier.FROZEN,
                                                                                      metrics.Tier.LEARNED)}
    missing = sorted(builtins - set(CASES))
    assert not missing, f"metrics without a reference row: {missing}"
