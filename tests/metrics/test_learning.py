"""Tier 3 metric-learning losses and miners: mined options against float64 loops, miners'
indices, jit against eager, gradients in every trained input, and the edge cases.

Each loss's default options are also checked by the reference and property harnesses (its row
is in metric_cases/metric_learning.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from metric_cases.metric_learning import batch, mined_ref, triplet_ref

from calibrax import metrics
from calibrax.metrics import MetricInputError, learning

LOSSES = ["arcface_loss", "contrastive_loss", "cosface_loss", "nt_xent_loss", "proxy_anchor_loss",
          "proxy_nca_loss", "triplet_loss"]


def _mined(t: learning.Triplets) -> set[tuple[int, int, int]]:
    a, p, n, v = (np.asarray(u) for u in t)
    return {(int(i), int(j), int(k)) for i, j, k, ok in zip(a, p, n, v, strict=True) if ok}


def test_losses_are_registered_as_tier_3_differentiable() -> None:
    entries = metrics.list_metrics(tier=3)
    assert sorted(e.name for e in entries) == LOSSES
    assert all(e.differentiable and e.domain == "metric_learning" and e.direction.value == "lower" for e in entries)
    assert metrics.get("nt_xent_loss").signature.value == "views"


@pytest.mark.parametrize("mining", ["hard", "semi_hard"])
@pytest.mark.parametrize("squared", [False, True])
def test_mined_triplet_loss_matches_float64_loops(mining: str, squared: bool) -> None:
    fn = jax.jit(partial(learning.triplet_loss, margin=1.2, mining=mining, squared=squared))
    for seed in range(3):
        x, y = batch(np.random.default_rng(seed))
        expected = triplet_ref(x, y, margin=1.2, mining=mining, squared=squared)
        assert expected > 0
        np.testing.assert_allclose(float(fn(x.astype(np.float32), y)), expected, rtol=1e-5)
        eager = learning.triplet_loss(x.astype(np.float32), y, margin=1.2, mining=mining, squared=squared)
        np.testing.assert_allclose(float(eager), expected, rtol=1e-5)


@pytest.mark.parametrize("squared", [False, True])
def test_miners_pick_the_same_triplets_as_loops_eager_and_jitted(squared: bool) -> None:
    x, y = batch(np.random.default_rng(11))
    x32 = x.astype(np.float32)
    hard = _mined(learning.hard_negative_miner(x32, y, squared=squared))
    assert hard == set(mined_ref(x, y, None, squared))
    semi = jax.jit(partial(learning.semi_hard_miner, margin=1.0, squared=squared))(x32, y)
    assert semi.anchors.shape == (len(y) ** 2,) and semi.valid.dtype == jnp.bool_
    assert _mined(semi) == set(mined_ref(x, y, 1.0, squared)) == _mined(learning.semi_hard_miner(x32, y, squared=squared))
    assert semi.to_mask(len(y)).sum() == len(_mined(semi))


def test_semi_hard_miner_picks_exactly_the_facenet_negatives() -> None:
    # one dimension: anchor 0 at 0, its positive 1 at 1 (d_ap = 1); negatives at 0.5 (harder than
    # the positive), 1.3 and 1.8 (semi-hard: 1 < d < 2), 2.5 (beyond the margin).
    x = jnp.array([[0.0], [1.0], [0.5], [1.3], [1.8], [2.5]])
    y = jnp.array([0, 0, 1, 1, 1, 1])
    t = learning.semi_hard_miner(x, y, margin=1.0)
    mined = _mined(t)
    assert (0, 1, 3) in mined  # the nearest semi-hard negative: not 2 (too hard), nor 4, nor 5 (too easy)
    # anchor 1 and positive 0: d_ap = 1; its negatives lie 0.5, 0.3, 0.8 and 1.5 away: only row 5 is semi-hard
    assert (1, 0, 5) in mined
    assert {t for t in mined if t[0] < 2} == {(0, 1, 3), (1, 0, 5)}
    hard = _mined(learning.hard_negative_miner(x, y))
    assert {t for t in hard if t[0] < 2} == {(0, 1, 2), (1, 0, 3)}  # the nearest negative outright


def test_triplet_loss_is_zero_when_every_margin_is_met() -> None:
    x = jnp.array([[0.0, 0.0], [0.2, 0.0], [5.0, 0.0], [5.2, 0.0], [0.0, 9.0], [0.1, 9.0]])
    y = jnp.array([0, 0, 1, 1, 2, 2])
    for mining in ("all", "hard", "semi_hard"):
        assert float(learning.triplet_loss(x, y, margin=1.0, mining=mining)) == 0.0
    assert float(learning.contrastive_loss(x, y, margin=1.0)) == pytest.approx(0.5 * (0.04 + 0.04 + 0.01) / 15, rel=1e-5)


def test_a_batch_without_triplets_gives_zero_and_finite_gradients() -> None:
    x = jnp.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])

    def losses(e: Any, y: Any) -> Any:
        return jnp.stack([learning.triplet_loss(e, y, mining=m) for m in ("all", "hard", "semi_hard")])

    for y in (jnp.array([0, 0, 0]), jnp.array([0, 1, 2])):  # no negatives / no positives
        value, grad = jax.jit(jax.value_and_grad(lambda e, y: losses(e, y).sum()))(x, y)
        assert float(value) == 0.0 and np.all(np.isfinite(grad))  # each loss is >= 0, so all are 0


def _inputs(name: str, rng: np.random.Generator) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if name == "nt_xent_loss":
        z = rng.normal(size=(6, 4)).astype(np.float32)
        return (z, z + 0.3 * rng.normal(size=z.shape).astype(np.float32)), {}
    x, y = batch(rng, n=10, d=4, k=3)
    kw = {"class_weights": rng.normal(size=(3, 4)).astype(np.float32)} if name in ("arcface_loss", "cosface_loss") \
        else {"proxies": rng.normal(size=(3, 4)).astype(np.float32)} if name.startswith("proxy") else {}
    return (x.astype(np.float32), y), kw


@pytest.mark.parametrize("name", LOSSES)
def test_gradients_in_every_trained_input_are_finite_and_non_zero(name: str) -> None:
    fn = metrics.get(name).function
    args, kw = _inputs(name, np.random.default_rng(5))
    floats = [i for i, a in enumerate(args) if a.dtype.kind == "f"]

    def loss(trained: list[Any], k: dict[str, Any]) -> Any:
        pos = list(args)
        for i, value in zip(floats, trained, strict=True):
            pos[i] = value
        return fn(*pos, **k)

    grads = jax.jit(jax.grad(loss, argnums=(0, 1)))([args[i] for i in floats], kw)
    for g in jax.tree_util.tree_leaves(grads):
        if jnp.issubdtype(g.dtype, jnp.floating):
            assert np.all(np.isfinite(g)) and np.any(g != 0), name


def test_arcface_and_cosface_agree_without_margin_and_the_margin_raises_the_loss() -> None:
    (x, y), kw = _inputs("arcface_loss", np.random.default_rng(2))
    w = kw["class_weights"]
    arc0 = learning.arcface_loss(x, y, class_weights=w, scale=10.0, margin=0.0)
    cos0 = learning.cosface_loss(x, y, class_weights=w, scale=10.0, margin=0.0)
    np.testing.assert_allclose(float(arc0), float(cos0), rtol=1e-6)
    assert float(learning.arcface_loss(x, y, class_weights=w, scale=10.0, margin=0.4)) > float(arc0)
    assert float(learning.cosface_loss(x, y, class_weights=w, scale=10.0, margin=0.4)) > float(cos0)


def test_nt_xent_is_symmetric_in_its_views_and_small_for_matching_views() -> None:
    z = jnp.eye(4)
    assert float(learning.nt_xent_loss(z, z, temperature=0.05)) < 1e-6
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(float(learning.nt_xent_loss(a, b)), float(learning.nt_xent_loss(b, a)), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: learning.triplet_loss(np.zeros((4, 2)), np.zeros(3, int)), r"labels shape \(n,\); got \(4, 2\) and \(3,\)"),
        (lambda: learning.triplet_loss(np.zeros((4, 2)), np.zeros(4, int), mining="hardest"), "mining must be one of"),
        (lambda: learning.triplet_loss(np.zeros((4, 2)), np.zeros(4)), "integer labels"),
        (lambda: learning.contrastive_loss(np.zeros((4, 2)), np.zeros(4, int), margin=0.0), "margin must be positive"),
        (lambda: learning.nt_xent_loss(np.zeros((4, 2)), np.zeros((3, 2))), "must both have shape"),
        (lambda: learning.arcface_loss(np.zeros((4, 2)), np.zeros(4, int), class_weights=np.ones((3, 5))),
         r"class_weights must have shape \(K, 2\)"),
        (lambda: learning.proxy_nca_loss(np.zeros((4, 2)), np.zeros(4, int), proxies=np.ones((1, 2))),
         "at least 2 rows"),
        (lambda: learning.semi_hard_miner(np.zeros((4, 2)), np.zeros(4, int), margin=-1.0), "margin must be positive"),
    ],
)
def test_bad_inputs_say_what_is_wrong(call: Any, match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        call()
