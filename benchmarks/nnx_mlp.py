"""Flax NNX benchmarks: an MLP's forward pass and one optax train step, in functional form.

``mlp_train_step`` is the donating form of a training step: ``from_train_step`` jits a pure
step from State to ``(loss, new_state)`` with ``donate_argnums=0`` and carries ``new_state``
into the next call (``carry=(1,)``), so every timed call is one more Adam step and the state's
buffers are reused in place, as in a real training loop.
"""

from __future__ import annotations

import jax
import optax
from flax import nnx

import calibrax


class MLP(nnx.Module):
    """A ReLU multilayer perceptron."""

    def __init__(self, sizes: list[int], *, rngs: nnx.Rngs) -> None:
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


def _data(batch: int, features: int, classes: int) -> tuple[jax.Array, jax.Array]:
    kx, ky = jax.random.split(jax.random.key(2))
    x = jax.random.normal(kx, (batch, features))
    y = jax.random.randint(ky, (batch,), 0, classes)
    return x, y


@calibrax.benchmark("mlp_forward", params={"batch": [32, 256], "hidden": [256]})
def mlp_forward(batch: int, hidden: int, features: int = 128, classes: int = 10) -> calibrax.Workload:
    """Forward pass of a 3-layer MLP on a batch of random features."""
    model = MLP([features, hidden, hidden, classes], rngs=nnx.Rngs(0))
    x, _ = _data(batch, features, classes)
    return calibrax.from_nnx_module(model, x, items=batch)


def _cross_entropy(model: MLP, x: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()


@calibrax.benchmark("mlp_train_step", params={"batch": [64], "hidden": [256]})
def mlp_train_step(batch: int, hidden: int, features: int = 128, classes: int = 10) -> calibrax.Workload:
    """One Adam step of a 3-layer MLP with a cross-entropy loss; the state is donated and carried."""
    model = MLP([features, hidden, hidden, classes], rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    x, y = _data(batch, features, classes)
    return calibrax.from_train_step(model, optimizer, _cross_entropy, (x, y), items=batch)
