"""Convergence checks on real short Flax NNX training runs and on series with known rates."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from calibrax.core import ConfigError
from calibrax.validation import (
    ConvergenceCriteria,
    ConvergenceStatus,
    Rate,
    check_convergence,
    common_tolerance,
    estimate_rate,
)

CRITERIA = ConvergenceCriteria(tolerances=(1e-2, 1e-4), plateau_window=20, plateau_tol=1e-3)


def _data(target: str, n: int = 128) -> tuple[jax.Array, jax.Array]:
    x = jax.random.normal(jax.random.key(0), (n, 4))
    if target == "linear":
        y = x @ jnp.array([[1.0], [-2.0], [0.5], [3.0]])
    else:  # a target a linear model cannot fit: its loss floor is well above the tolerances
        y = jnp.sin(3 * x[:, :1]) * jnp.cos(2 * x[:, 1:2])
    return x, y


def train(optimizer: optax.GradientTransformation, target: str, steps: int = 300) -> list[float]:
    """Full-batch training of a Flax NNX linear model; returns the loss per step."""
    model = nnx.Linear(4, 1, rngs=nnx.Rngs(0))
    opt = nnx.Optimizer(model, optimizer, wrt=nnx.Param)
    x, y = _data(target)

    @nnx.jit
    def step(model: nnx.Linear, opt: nnx.Optimizer, x: jax.Array, y: jax.Array) -> jax.Array:
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        opt.update(model, grads)
        return loss

    return [float(step(model, opt, x, y)) for _ in range(steps)]


def test_a_model_that_can_fit_its_data_converges() -> None:
    losses = train(optax.sgd(0.1), "linear")
    result = check_convergence(losses, CRITERIA)
    assert result.status is ConvergenceStatus.CONVERGED, result.message
    assert result.passed
    step_2, step_4 = result.reached[1e-2], result.reached[1e-4]
    assert step_2 is not None and step_4 is not None and 0 < step_2 < step_4 < len(losses)
    assert all(v <= 1e-4 for v in losses[step_4:]) and losses[step_4 - 1] > 1e-4
    assert result.rate.rate is Rate.LINEAR and 0 < result.rate.factor < 1  # gradient descent on a quadratic
    assert "converged" in result.message and f"0.0001 at step {step_4}" in result.message


def test_a_model_that_cannot_fit_its_data_plateaus() -> None:
    losses = train(optax.adam(0.05), "nonlinear")
    result = check_convergence(losses, CRITERIA)
    assert result.status is ConvergenceStatus.PLATEAU, result.message
    assert not result.passed and result.reached == {1e-2: None, 1e-4: None}
    assert result.plateau_step is not None and result.plateau_step < len(losses) - CRITERIA.plateau_window
    assert result.best > 1e-2 and "plateau" in result.message


def test_too_large_a_learning_rate_diverges() -> None:
    losses = train(optax.sgd(3.0), "linear", steps=200)
    result = check_convergence(losses, CRITERIA)
    assert result.status is ConvergenceStatus.DIVERGED, result.message
    assert result.diverged_step is not None and result.diverged_step > 0
    assert losses[result.diverged_step] > 10 * min(losses[: result.diverged_step])
    assert all(step is None for step in result.reached.values())
    assert "diverged" in result.message and "learning rate" in result.message


def test_a_nan_is_divergence_at_its_step() -> None:
    result = check_convergence([1.0, 0.5, 0.25, math.nan, 0.1], CRITERIA)
    assert result.status is ConvergenceStatus.DIVERGED and result.diverged_step == 3


def test_a_short_run_still_improving_is_progressing() -> None:
    losses = train(optax.sgd(0.01), "linear", steps=40)
    result = check_convergence(losses, CRITERIA)
    assert result.status is ConvergenceStatus.PROGRESSING, result.message
    assert "more steps" in result.message


@pytest.mark.parametrize(
    "errors, rate",
    [
        ([0.8**k for k in range(60)], Rate.LINEAR),
        ([1.0 / (k + 1) ** 1.5 for k in range(300)], Rate.SUBLINEAR),
        ([0.5 ** (2**k) for k in range(7)], Rate.SUPERLINEAR),  # Newton-like: digits double per step
        ([1.0, 0.5, 0.4], Rate.UNKNOWN),
    ],
)
def test_rates_read_on_a_log_scale(errors: list[float], rate: Rate) -> None:
    assert estimate_rate(errors).rate is rate


def test_rate_figures() -> None:
    assert estimate_rate([0.8**k for k in range(60)]).factor == pytest.approx(0.8)
    assert estimate_rate([1.0 / (k + 1) ** 1.5 for k in range(300)]).exponent == pytest.approx(1.5, rel=0.05)
    assert estimate_rate([0.5 ** (2**k) for k in range(7)]).order == pytest.approx(2.0)


def test_a_tolerance_counts_only_once_the_series_stays_within_it() -> None:
    result = check_convergence([1.0, 0.005, 0.5, 0.009, 0.008, 0.007], ConvergenceCriteria((1e-2,), plateau_window=2))
    assert result.reached[1e-2] == 3


def test_target_and_relative_tolerances() -> None:
    # An accuracy climbing to 0.9: the error is |x - 0.9|, relative to the first error 0.8.
    acc = [0.9 - 0.8 * 0.7**k for k in range(40)]
    result = check_convergence(acc, ConvergenceCriteria((1e-3,), target=0.9, relative=True), name="accuracy")
    assert result.passed and result.first == pytest.approx(1.0)
    assert result.reached[1e-3] == math.ceil(math.log(1e-3) / math.log(0.7))


def test_the_smallest_tolerance_every_series_meets() -> None:
    criteria = ConvergenceCriteria((1e-1, 1e-2, 1e-4))
    fast = check_convergence([0.5**k for k in range(30)], criteria)
    slow = check_convergence([1 / (k + 1) for k in range(300)], criteria)
    assert common_tolerance([fast, slow]) == 1e-2
    assert common_tolerance([fast]) == 1e-4
    assert common_tolerance([]) is None
    stuck = check_convergence([1.0] * 30, criteria)
    assert common_tolerance([fast, stuck]) is None


def test_a_result_becomes_a_stored_entry() -> None:
    result = check_convergence(np.array([0.5**k for k in range(30)]), CRITERIA, name="train/loss")
    entry = result.to_entry()
    assert (entry.kind, entry.name, entry.passed) == ("convergence", "train/loss", True)
    assert entry.figures["rate"] == "linear" and entry.figures["reached"] == [[1e-2, 7], [1e-4, 14]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tolerances": ()}, "non-empty list of positive numbers"),
        ({"tolerances": (0.0,)}, "non-empty list of positive numbers"),
        ({"tolerances": (1e-2,), "plateau_window": 1}, "plateau_window must be at least 2"),
        ({"tolerances": (1e-2,), "plateau_tol": -1}, "plateau_tol must be"),
        ({"tolerances": (1e-2,), "divergence_factor": 1.0}, "divergence_factor must be above 1"),
    ],
)
def test_bad_criteria_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ConvergenceCriteria(**kwargs)


@pytest.mark.parametrize("series", [[], [[1.0, 2.0]]])
def test_a_series_must_be_one_dimensional_and_non_empty(series: list) -> None:
    with pytest.raises(ConfigError, match="non-empty 1-D sequence"):
        check_convergence(series, CRITERIA)
