"""A quality benchmark: a Flax NNX classifier trained briefly on synthetic data.

The factory trains a small MLP on Gaussian blobs (generated here, nothing downloaded), then
times its forward pass on a held-out set; ``outputs`` gives the held-out predictions, class
probabilities and labels for the quality metrics its YAML declares (accuracy, ECE, log loss),
and ``series`` the training loss of every step for the convergence check its YAML declares.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import calibrax


@partial(jax.jit, static_argnums=(1, 2, 3, 4))  # one program per size, not one per random op
def _blobs(key: jax.Array, n: int, classes: int, features: int, spread: float) -> tuple[jax.Array, jax.Array]:
    kc, kx, ky = jax.random.split(key, 3)
    centres = 3.0 * jax.random.normal(kc, (classes, features))
    y = jax.random.randint(ky, (n,), 0, classes)
    x = centres[y] + spread * jax.random.normal(kx, (n, features))
    return x, y


class Classifier(nnx.Module):
    """A two-layer ReLU MLP."""

    def __init__(self, features: int, hidden: int, classes: int, *, rngs: nnx.Rngs) -> None:
        self.hidden = nnx.Linear(features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.hidden(x)))


@calibrax.benchmark("nnx_classifier", params={"steps": [200], "classes": [4]})
def nnx_classifier(steps: int, classes: int, features: int = 16, hidden: int = 64, spread: float = 3.0) -> calibrax.Workload:
    """Forward pass of an MLP classifier trained for `steps` Adam steps; quality on held-out data."""
    # Held on the host: the batches below are numpy slices, where slicing a jax.Array with each
    # new offset would compile a small program before the first step.
    x, y = map(np.asarray, _blobs(jax.random.key(0), 2048, classes, features, spread))
    x_test, y_test = map(np.asarray, _blobs(jax.random.key(0), 4096, classes, features, spread))  # same centres, new draws
    x_test, y_test = jnp.asarray(x_test[2048:]), jnp.asarray(y_test[2048:])
    model = Classifier(features, hidden, classes, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def step(model: Classifier, optimizer: nnx.Optimizer, xb: jax.Array, yb: jax.Array) -> jax.Array:
        def loss_fn(m: Classifier) -> jax.Array:
            return optax.softmax_cross_entropy_with_integer_labels(m(xb), yb).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    losses = []
    for i in range(steps):
        lo = (i * 256) % 2048
        losses.append(step(model, optimizer, x[lo:lo + 256], y[lo:lo + 256]))

    workload = calibrax.from_nnx_module(model, x_test, items=int(x_test.shape[0]))

    def outputs() -> dict[str, jax.Array]:
        probabilities = jax.nn.softmax(workload.call(), axis=-1)
        return {"predictions": jnp.argmax(probabilities, axis=-1), "probabilities": probabilities, "targets": y_test}

    def series() -> dict[str, list[float]]:
        return {"loss": [float(v) for v in jax.device_get(losses)]}

    return calibrax.Workload(workload.fn, args=workload.args, items=workload.items, outputs=outputs, series=series)
