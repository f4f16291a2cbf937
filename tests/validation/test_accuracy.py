"""Accuracy against references, and float32 (or bfloat16) outputs against a wider computation."""

from __future__ import annotations

import math

import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

from calibrax.core import ConfigError
from calibrax.validation import check_accuracy, compare_outputs, compare_precisions, ulp

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal((128, 128)), RNG.standard_normal((128, 128))
V = RNG.uniform(0.0, 1.0, 100_000)


@pytest.mark.parametrize(
    "achieved, better, margin, relative, passed",
    [
        (0.89, "higher", 0.02, False, True),  # a small drop within the margin
        (0.85, "higher", 0.02, False, False),
        (0.99, "higher", 0.0, False, True),  # better than the reference is always fine
        (1.05, "lower", 0.1, True, True),  # a loss 5% above, 10% allowed
        (1.15, "lower", 0.1, True, False),
        (0.5, "lower", 0.0, False, True),
        (0.95, "equal", 0.04, False, False),
        (1.03, "equal", 0.04, False, True),
        (math.nan, "equal", 1.0, False, False),
    ],
)
def test_direction_aware_margins(achieved: float, better: str, margin: float, relative: bool, passed: bool) -> None:
    ref = 0.9 if better == "higher" else 1.0
    result = check_accuracy(achieved, ref, name="m", better=better, margin=margin, relative=relative)  # type: ignore[arg-type]
    assert result.passed is passed, result.message
    assert result.abs_error == pytest.approx(achieved - ref, nan_ok=True)


def test_a_reference_function_is_called() -> None:
    result = check_accuracy(2.0, lambda: math.sqrt(4.0), name="sqrt", margin=1e-12)
    assert result.passed and result.reference == 2.0 and result.rel_error == 0.0


def test_errors_against_a_zero_reference() -> None:
    assert check_accuracy(0.0, 0.0).rel_error == 0.0
    assert check_accuracy(0.1, 0.0).rel_error == math.inf


def test_an_accuracy_result_becomes_a_stored_entry() -> None:
    entry = check_accuracy(0.85, 0.9, name="mlp/accuracy", better="higher", margin=0.02).to_entry()
    assert (entry.kind, entry.name, entry.passed) == ("accuracy", "mlp/accuracy", False)
    assert entry.figures["abs_error"] == pytest.approx(-0.05) and entry.figures["better"] == "higher"


@pytest.mark.parametrize(
    "kwargs, match", [({"better": "up"}, "better must be one of higher, lower, equal"), ({"margin": -0.1}, "margin")]
)
def test_bad_check_arguments_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_accuracy(1.0, 1.0, **kwargs)


def test_float32_matmul_against_float64() -> None:
    figures = compare_precisions(jnp.matmul, A, B, max_rel=1e-2)
    exact = A @ B
    f32 = np.asarray(jnp.matmul(jnp.asarray(A, jnp.float32), jnp.asarray(B, jnp.float32)), np.float64)
    assert (figures.dtype, figures.reference_dtype, figures.size) == ("float32", "float64", 128 * 128)
    assert figures.max_abs == pytest.approx(np.max(np.abs(f32 - exact)), rel=1e-6, abs=1e-12)
    # Inputs rounded to float32 and 128-term sums: errors near float32's epsilon times the sum.
    assert 1e-7 < figures.mean_abs < figures.max_abs < 1e-3
    assert figures.mean_ulps >= 0.5 and figures.passed
    assert "max abs error" in figures.message and "ULP" in figures.message
    entry = figures.to_entry()
    assert entry.kind == "error" and entry.figures["max_abs"] == figures.max_abs


def test_float32_sum_against_float64() -> None:
    figures = compare_precisions(jnp.sum, V, max_ulps=64)
    assert figures.size == 1 and figures.passed
    f32 = float(jnp.sum(jnp.asarray(V, jnp.float32)))
    assert figures.max_abs == pytest.approx(abs(f32 - V.sum()), rel=1e-6)
    assert figures.max_rel < 1e-5 and figures.max_ulps == pytest.approx(figures.max_abs / float(ulp(V.sum(), np.float32)))


def test_bfloat16_against_float32_is_far_coarser() -> None:
    bf16 = compare_precisions(jnp.matmul, A, B, dtype="bfloat16", reference_dtype="float32")
    f32 = compare_precisions(jnp.matmul, A, B)
    assert bf16.dtype == "bfloat16" and bf16.mean_abs > 100 * f32.mean_abs


def test_bounds_that_are_exceeded_fail_with_the_figures() -> None:
    figures = compare_precisions(jnp.matmul, A, B, max_abs=1e-9, max_ulps=0.5)
    assert not figures.passed
    assert "beyond the bounds: max_abs" in figures.message and "max_ulps" in figures.message


def test_ulp_of_float32_bfloat16_and_zero() -> None:
    assert ulp(1.0, np.float32) == 2.0**-23
    assert ulp(3.0, np.float32) == np.spacing(np.float32(2.0))
    assert ulp(1.0, ml_dtypes.bfloat16) == 2.0**-7
    assert ulp(0.0, np.float32) == np.finfo(np.float32).smallest_subnormal


def test_a_nan_output_fails_where_the_reference_is_finite() -> None:
    figures = compare_outputs(np.array([1.0, np.nan], np.float32), np.array([1.0, 2.0]))
    assert not figures.passed and "1 value(s) are NaN or infinite" in figures.message


def test_outputs_must_match_in_shape_and_be_floating_point() -> None:
    with pytest.raises(ConfigError, match=r"shape \(2,\) but the reference \(3,\)"):
        compare_outputs(np.ones(2), np.ones(3))
    with pytest.raises(ConfigError, match="floating-point array, got dtype int64"):
        compare_outputs(np.ones(2, np.int64), np.ones(2))


def test_a_function_that_changes_dtype_is_refused() -> None:
    with pytest.raises(ConfigError, match="not float64; make fn keep its input dtype"):
        compare_precisions(lambda x: jnp.asarray(x, jnp.float32), V[:10])
