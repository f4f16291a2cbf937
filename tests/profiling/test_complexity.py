"""Complexity classes fitted by the runner over real measured size sweeps."""

from __future__ import annotations

from dataclasses import replace

import jax
import jax.numpy as jnp
import pytest

from calibrax.analysis import complexity_fits
from calibrax.core import BenchmarkSpec, CaseResult, CaseStatus, Workload
from calibrax.profiling import TimingProtocol
from calibrax.runner.execute import run_case

pytestmark = pytest.mark.serial  # fits measured times: run alone

PROTOCOL = TimingProtocol(min_rounds=10, min_time=0.02, warmup_time=0.01, min_round_time=0.002)


def _sweep(factory, sizes: list[int]) -> list[CaseResult]:  # type: ignore[no-untyped-def]
    """Measure every size twice, up then down, and pool each size's rounds: a burst of load
    from other processes then rarely hits both measurements of a size."""
    spec = BenchmarkSpec("sweep", factory)
    up = {n: run_case(spec, {"n": n, "label": "x"}, PROTOCOL) for n in sizes}
    down = {n: run_case(spec, {"n": n, "label": "x"}, PROTOCOL) for n in reversed(sizes)}
    assert all(c.status is CaseStatus.OK for c in [*up.values(), *down.values()])
    pooled = []
    for n in sizes:
        t1, t2 = up[n].measures["time"], down[n].measures["time"]
        pooled.append(replace(up[n], measures={**up[n].measures, "time": replace(t1, samples=t1.samples + t2.samples)}))
    return pooled


def test_a_prefix_sum_is_linear() -> None:
    # A cumulative sum as a work-efficient parallel scan: O(n) work. (jnp.cumsum lowers to a
    # reduce_window that XLA's CPU backend runs as a tree, closer to O(n log n).)
    scan = jax.jit(lambda x: jax.lax.associative_scan(jnp.add, x))  # one function: the way down reuses each compile

    def cumsum(n: int, label: str) -> Workload:
        return Workload(scan, args=(jnp.ones(n, jnp.float32),))

    # 128 KiB to 16 MiB: from 32 KiB the scan's fixed cost per level (about 0.07 ms here) pulled the
    # fitted exponent to 0.58-0.70 on a quiet machine; from 128 KiB it read 0.76-0.84
    sizes = [1 << k for k in range(15, 23)]
    [fit] = complexity_fits(_sweep(cumsum, sizes))
    assert fit["param"] == "n" and fit["fixed"] == {"label": "x"} and fit["warning"] is None
    # On a loaded machine the largest sizes fall out of cache and O(n log n) can fit as well;
    # what must hold is a near-linear class and an exponent near 1.
    assert fit["best"]["name"] in ("O(n)", "O(n log n)"), fit
    assert 0.6 < fit["exponent"]["value"] < 1.4, fit


def test_matmul_is_quadratic_or_cubic() -> None:
    matmul_jit = jax.jit(jnp.matmul)

    def matmul(n: int, label: str) -> Workload:
        x = jnp.ones((n, n), jnp.float32)
        return Workload(matmul_jit, args=(x, x))

    sizes = [16, 64, 128, 256, 384, 512, 768]
    [fit] = complexity_fits(_sweep(matmul, sizes))
    assert fit["best"]["name"] in ("O(n^2)", "O(n^3)"), fit
    assert fit["exponent"]["ci_low"] < fit["exponent"]["value"] < fit["exponent"]["ci_high"]


def test_a_sweep_of_three_sizes_gets_a_fit_and_two_do_not() -> None:
    def case(n: int, t: float) -> CaseResult:
        from calibrax.core import MeasureResult, measure_for

        time = MeasureResult(measure_for("time"), (t, t))
        return CaseResult("b", {"n": n}, CaseStatus.OK, {"time": time})

    cases = [case(n, 1e-6 * n) for n in (10, 100, 1000)]
    assert complexity_fits(cases)[0]["best"]["name"] == "O(n)"
    assert complexity_fits(cases[:2]) == []  # two sizes are not a sweep
