from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from calibrax.core import BenchmarkError, Workload, from_callable, from_jitted, from_nnx_module, from_train_step


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


@pytest.mark.parametrize("batch", [(1, 2), {"x": "text"}, ()])
def test_train_step_batch_must_hold_arrays(batch: object) -> None:
    model = nnx.Linear(1, 1, rngs=nnx.Rngs(0))
    with pytest.raises(BenchmarkError, match="batch must hold arrays.*Convert its values with jnp.asarray"):
        from_train_step(model, None, lambda *_: 0, batch)


@pytest.mark.parametrize("wrap", [dict, list], ids=["dict", "list"])
def test_from_train_step_passes_a_dict_or_other_pytree_batch_whole(wrap: type) -> None:
    model = nnx.Linear(3, 1, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    x = jax.random.normal(jax.random.key(0), (16, 3))
    y = x @ jnp.array([[1.0], [-2.0], [0.5]])
    if wrap is dict:
        batch: object = {"image": x, "label": y}
        loss_fn = lambda m, b: ((m(b["image"]) - b["label"]) ** 2).mean()  # noqa: E731
    else:
        batch = [x, y]
        loss_fn = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()  # noqa: E731
    w = from_train_step(model, opt, loss_fn, batch, outputs={"targets": y}, series={"loss": [1.0, 0.5]})
    losses = [float(w.call()[0]) for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0]
    assert w.outputs["targets"] is y and list(w.series["loss"]) == [1.0, 0.5]


def test_every_adapter_accepts_outputs_and_series() -> None:
    model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
    x = jnp.ones((4, 2))
    made = [from_callable(pow, 2, 3, outputs={"predictions": 1}, series={"s": [1]}),
            from_jitted(lambda a: a + 1, x, outputs={"predictions": 1}, series={"s": [1]}),
            from_nnx_module(model, x, outputs={"predictions": 1}, series={"s": [1]})]
    for w in made:
        assert w.outputs == {"predictions": 1} and w.series == {"s": [1]}
    assert made[0].call() == 8  # other keyword arguments still reach the function
    assert from_callable(lambda a, b=0: a + b, 1, b=2).call() == 3


def test_from_train_step_donates_and_carries_its_state() -> None:
    model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    w = from_train_step(model, opt, lambda m, a, b: ((m(a) - b) ** 2).mean(), (jnp.ones((4, 2)), jnp.zeros((4, 1))))
    assert w.flow == "carry" and w.carried == ((1, 0),)
    traced = w.fn.trace(*w.args)  # type: ignore[attr-defined]
    assert all(a.donated for a in jax.tree.leaves(traced.args_info[0][0], is_leaf=lambda x: hasattr(x, "donated")))
    state0 = w.current_args[0]
    w.call()
    assert w.current_args[0] is not state0 and w.current_args[1] is w.args[1]


@pytest.mark.parametrize(
    "carry, n_args, pairs",
    [
        (False, 1, ()),
        (True, 1, ((-1, 0),)),
        (True, 2, ((0, 0), (1, 1))),
        (1, 2, ((1, 0),)),
        ((0, 2), 3, ((0, 0), (2, 1))),
        ({1: 2}, 3, ((1, 2),)),
    ],
)
def test_carry_forms_name_output_to_argument_pairs(carry: object, n_args: int, pairs: tuple) -> None:
    w = Workload(lambda *a: a, args=tuple(range(n_args)), carry=carry)  # type: ignore[arg-type]
    assert w.carried == pairs and w.flow == ("carry" if pairs else "reuse")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"carry": True}, "args is empty: pass the initial state"),
        ({"args": (1,), "carry": "yes"}, "is not one of these forms"),
        ({"args": (1,), "carry": (-1,)}, "not an integer >= 0"),
        ({"args": (1,), "carry": (1.5,)}, "not an integer >= 0"),
        ({"args": (1,), "carry": {0: 3}}, "feeds argument 3, but there are only 1"),
        ({"args": (1, 2), "carry": (0, 1, 2)}, "feeds argument 2, but there are only 2"),
        ({"args": (1, 2), "carry": (1, 1)}, "names an output twice"),
        ({"args": (1, 2), "carry": {0: 1, 1: 1}}, "names an argument twice"),
        ({"args": (1,), "carry": ()}, "names no output"),
        ({"setup": 3}, "setup must be a zero-argument callable"),
        ({"setup": tuple, "carry": True, "args": (1,)}, "carry= or setup=, not both"),
        ({"setup": tuple, "args": (1,)}, "args must be empty"),
    ],
)
def test_bad_flows_are_refused_when_the_workload_is_built(kwargs: dict, match: str) -> None:
    with pytest.raises(BenchmarkError, match=match):
        Workload(lambda *a: a, **kwargs)


def test_setup_results_become_fresh_arguments_over_the_fixed_kwargs() -> None:
    pair = Workload(lambda a, b=0, c=0: (a, b, c), kwargs={"b": 1, "c": 2}, setup=lambda: ((5,), {"c": 9}))
    assert pair.call() == (5, 1, 9) and pair.flow == "setup"
    assert Workload(lambda a: a, setup=lambda: (7,)).call() == 7
    with pytest.raises(BenchmarkError, match="For a single argument return"):
        Workload(lambda a: a, setup=lambda: 7).call()


def test_carried_outputs_must_be_indexable_and_long_enough() -> None:
    with pytest.raises(BenchmarkError, match="not a tuple or list"):
        Workload(lambda a: a, args=(1,), carry=(0,)).call()
    with pytest.raises(BenchmarkError, match="needs 2 outputs, but fn returned 3"):
        Workload(lambda a, b: (a, b, 0), args=(1, 2), carry=True).call()


def test_prepare_inputs_moves_host_values_of_jitted_workloads_only() -> None:
    jitted = Workload(jax.jit(lambda x, s: x * s), args=(np.ones(2),), kwargs={"s": 2.0})
    assert jitted.prepare_inputs() == ["args[0]", "kwargs['s']"]
    assert isinstance(jitted.current_args[0], jax.Array) and jitted.kwargs == {"s": 2.0}
    assert Workload(lambda x: x, args=(np.ones(2),)).prepare_inputs() == []


def test_items_unit_names_the_throughput_unit() -> None:
    from calibrax.profiling import TimingProtocol, measure_workload

    w = from_jitted(lambda a: a * 2, jnp.ones(64), items=64)
    w = Workload(w.fn, args=w.args, items=64, items_unit="tokens")
    measures = measure_workload(w, TimingProtocol(min_rounds=2, min_time=0.0, warmup_time=0.0, min_round_time=1e-4))
    assert measures["throughput"].measure.unit == "tokens/s" and measures["throughput"].meta["items_unit"] == "tokens"
    for bad in ("", "tokens/s", 3):
        with pytest.raises(BenchmarkError, match="items_unit must name what an item is"):
            Workload(sum, args=([1],), items=1, items_unit=bad)  # type: ignore[arg-type]
