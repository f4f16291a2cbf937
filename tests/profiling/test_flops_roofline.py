from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from calibrax.core import BenchmarkError, BenchmarkSpec, CaseStatus, Workload
from calibrax.profiling import ProfilingOptions, TimingProtocol, analytic_flops, cost_summary, declare_flops, roofline
from calibrax.runner.execute import load_benchmark, run_case

REPO = Path(__file__).resolve().parents[2]
FAST = TimingProtocol(min_rounds=3, min_time=0.0, warmup_time=0.0, min_round_time=0.0005)
ROOF = ProfilingOptions(profilers=("flops", "roofline"))


def test_matmul_256_f32_stores_exactly_2n3_flops() -> None:
    spec = load_benchmark("matmul", str(REPO / "benchmarks" / "core_ops.py"))
    case = run_case(spec, {"n": 256, "dtype": "float32"}, FAST, ROOF)
    assert case.status is CaseStatus.OK, case.error
    assert case.measures["flops"].samples == (2.0 * 256**3,)
    assert case.measures["bytes_accessed"].samples == (4.0 * 3 * 256 * 256,)
    assert case.measures["compiled_peak_memory"].samples[0] > 0
    assert case.measures["flops"].meta["loops_counted_once"] is False
    assert case.measures["arithmetic_intensity"].samples[0] == pytest.approx(2 * 256**3 / (12 * 256 * 256))


def test_train_step_flops_are_two_to_three_times_the_forward() -> None:
    from flax import nnx

    import calibrax

    nnx_mlp = load_benchmark("mlp_forward", str(REPO / "benchmarks" / "nnx_mlp.py"))
    assert nnx_mlp is not None
    module = __import__(nnx_mlp.factory.__module__, fromlist=["MLP"])
    model = module.MLP([128, 256, 256, 10], rngs=nnx.Rngs(0))
    x, y = module._data(64, 128, 10)
    forward = cost_summary(calibrax.from_nnx_module(model, x).fn.lower(nnx.split(model)[1], x).compile())["flops"]
    train = run_case(load_benchmark("mlp_train_step", None), {"batch": 64, "hidden": 256}, FAST, ROOF)
    ratio = train.measures["flops"].samples[0] / forward
    assert 2.0 <= ratio <= 3.0, ratio


def test_a_declared_count_wins_and_is_checked_against_xla() -> None:
    @declare_flops(lambda n: 2 * n**3)
    def exact(n: int) -> Workload:
        return Workload(jax.jit(jnp.matmul), args=(jnp.ones((n, n)), jnp.ones((n, n))))

    @declare_flops(1e9)
    def wrong(n: int) -> Workload:
        return exact(n)

    good = run_case(BenchmarkSpec("exact", exact), {"n": 32}, FAST, ROOF).measures["flops"]
    assert good.samples == (2 * 32**3,) and good.meta["source"] == "declared"
    assert good.meta["agrees_with_xla"] is True and good.meta["xla_flops"] == 2 * 32**3
    bad = run_case(BenchmarkSpec("wrong", wrong), {"n": 32}, FAST, ROOF).measures["flops"]
    assert bad.samples == (1e9,) and bad.meta["agrees_with_xla"] is False
    assert analytic_flops(exact, {"n": 2}) == 16.0 and analytic_flops(lambda: 0, {}) is None
    with pytest.raises(BenchmarkError, match="could not be computed"):
        analytic_flops(exact, {"m": 2})


def test_a_plain_callable_declares_flops_or_is_unavailable() -> None:
    plain = run_case(BenchmarkSpec("plain", lambda: Workload(sum, args=([1, 2],))), {}, FAST, ROOF)
    assert "flops" not in plain.measures
    assert "not a jitted function" in plain.unavailable["flops"]
    declared = run_case(BenchmarkSpec("d", declare_flops(7)(lambda: Workload(sum, args=([1],)))), {}, FAST, ROOF)
    assert declared.measures["flops"].samples == (7.0,)
    assert declared.measures["achieved_flops"].samples[0] > 0


def test_loops_are_flagged_as_counted_once() -> None:
    x = jnp.ones((32, 32))
    loop = jax.jit(lambda v: jax.lax.fori_loop(0, 10, lambda i, a: a @ v, v)).lower(x).compile()
    straight = jax.jit(lambda v: v @ v).lower(x).compile()
    assert cost_summary(loop)["loops_counted_once"] is True
    assert cost_summary(loop)["flops"] < 2 * cost_summary(straight)["flops"]  # the body once, not 10 times
    assert cost_summary(straight)["loops_counted_once"] is False


def test_roofline_bounds_and_efficiency() -> None:
    mem = roofline(1e9, 1e9, peak_flops=100e9, bandwidth=10e9)
    assert (mem.intensity, mem.attainable, mem.ridge, mem.bound) == (1.0, 10e9, 10.0, "memory")
    comp = roofline(1e12, 1e9, peak_flops=100e9, bandwidth=10e9)
    assert (comp.attainable, comp.bound) == (100e9, "compute")
    with pytest.raises(ValueError):
        roofline(1.0, 0.0, 1.0, 1.0)
    opts = ProfilingOptions(profilers=("flops", "roofline"), peak_flops=1e15, bandwidth=1e12, peak_source="test")
    spec = BenchmarkSpec("mm", lambda: Workload(jax.jit(jnp.matmul), args=(jnp.ones((64, 64)), jnp.ones((64, 64)))))
    case = run_case(spec, {}, FAST, opts)
    eff = case.measures["roofline_efficiency"]
    assert len(eff.samples) == len(case.measures["time"].samples)
    assert eff.meta["bound"] == "memory" and eff.meta["peak_source"] == "test (one peak_flops for every dtype)"
    assert eff.meta["peak_dtype"] == "any" and eff.meta["basis"] == "derived"
    achieved = case.measures["achieved_flops"].samples
    assert eff.samples[0] == pytest.approx(achieved[0] / eff.meta["attainable_flops"])


def test_roofline_without_peaks_says_what_to_do() -> None:
    spec = BenchmarkSpec("mm", lambda: Workload(jax.jit(jnp.sin), args=(jnp.ones(64),)))
    case = run_case(spec, {}, FAST, ROOF)
    assert "calibrax hardware --calibrate" in case.unavailable["roofline_efficiency"]
    assert "roofline_efficiency" not in case.measures
    assert case.measures["transcendentals"].samples == (64.0,)
    assert case.measures["flops"].samples == (0.0,)  # XLA counts sin as a transcendental only
