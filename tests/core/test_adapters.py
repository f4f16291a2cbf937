from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from calibrax.core import BenchmarkError, from_callable, from_jitted, from_nnx_module, from_train_step


def test_from_callable_calls_with_args_and_kwargs() -> None:
    w = from_callable(lambda a, b=0: a - b, 5, b=2)
    assert w.call() == 3 and not w.is_jitted


def test_from_jitted_wraps_plain_functions_and_keeps_jitted_ones() -> None:
    f = jax.jit(jnp.sin)
    assert from_jitted(f, jnp.ones(2)).fn is f
    w = from_jitted(lambda x: x + 1, jnp.zeros(3))
    assert w.is_jitted
    np.testing.assert_allclose(w.call(), np.ones(3))


def test_from_nnx_module_matches_the_module_call() -> None:
    model = nnx.Linear(4, 2, rngs=nnx.Rngs(0))
    x = jnp.arange(8.0).reshape(2, 4)
    w = from_nnx_module(model, x, items=2)
    assert w.is_jitted and w.items == 2
    np.testing.assert_allclose(w.call(), model(x), rtol=1e-6)


def test_from_train_step_lowers_the_loss_when_state_is_fed_back() -> None:
    model = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    x = jax.random.normal(jax.random.key(0), (16, 3))
    y = x @ jnp.array([[1.0], [-2.0], [0.5]])
    w = from_train_step(model, opt, lambda m, a, b: ((m(a) - b) ** 2).mean(), (x, y))
    state, batch = w.args
    losses = []
    for _ in range(20):
        loss, state = w.fn(state, batch)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("adapter", [from_nnx_module, lambda m, *a: from_train_step(m, None, lambda *_: 0, (1,))])
def test_adapters_reject_non_modules(adapter) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BenchmarkError, match="expected a flax.nnx.Module"):
        adapter(object(), jnp.ones(1))


def test_train_step_batch_must_be_a_tuple() -> None:
    model = nnx.Linear(1, 1, rngs=nnx.Rngs(0))
    with pytest.raises(BenchmarkError, match="batch must be a tuple"):
        from_train_step(model, None, lambda *_: 0, [jnp.ones(1)])  # type: ignore[arg-type]
