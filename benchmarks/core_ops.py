"""Array-level benchmarks: a dense matmul and a row-wise softmax (a reduction plus exp)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import calibrax


@calibrax.benchmark("matmul", params={"n": [128, 256, 512], "dtype": ["float32"]})
def matmul(n: int, dtype: str = "float32") -> calibrax.Workload:
    """C = A @ B for two n x n matrices."""
    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (n, n), dtype=dtype)
    b = jax.random.normal(kb, (n, n), dtype=dtype)
    return calibrax.Workload(jax.jit(jnp.matmul), args=(a, b))


@calibrax.benchmark("softmax", params={"rows": [256], "cols": [1024, 8192]})
def softmax(rows: int, cols: int) -> calibrax.Workload:
    """Row-wise softmax of a rows x cols float32 matrix (max, exp, sum, divide)."""
    x = jax.random.normal(jax.random.key(1), (rows, cols), dtype=jnp.float32)
    return calibrax.Workload(jax.jit(lambda v: jax.nn.softmax(v, axis=-1)), args=(x,), items=rows)
