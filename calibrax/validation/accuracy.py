"""Accuracy: a value against a reference value or function, and outputs against a reference
computation (float32 against float64, bfloat16 against float32) with max and mean errors in
absolute, relative and ULP terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from calibrax.core.checks import ValidationEntry
from calibrax.core.errors import ConfigError

__all__ = [
    "AccuracyResult",
    "ErrorFigures",
    "check_accuracy",
    "compare_outputs",
    "compare_precisions",
    "ulp",
]

Better = Literal["higher", "lower", "equal"]
_BETTER = ("higher", "lower", "equal")


@dataclass(frozen=True)
class AccuracyResult:
    """An achieved value against its reference.

    Attributes:
        name: what was checked (``mlp/accuracy``).
        achieved, reference: the two values.
        abs_error: ``achieved - reference`` (signed).
        rel_error: ``abs_error / |reference|`` (inf when the reference is 0 and they differ).
        better: ``higher`` (may not fall more than the margin below the reference), ``lower``
            (may not rise more than the margin above it) or ``equal`` (within the margin
            either way).
        margin: the allowed distance, in the value's units (already scaled when relative).
        passed: False for a violation.
        message: a full sentence.
    """

    name: str
    achieved: float
    reference: float
    abs_error: float
    rel_error: float
    better: Better
    margin: float
    passed: bool
    message: str

    def to_entry(self) -> ValidationEntry:
        """This result as a stored validation entry."""
        figures = {k: _json(getattr(self, k)) for k in ("achieved", "reference", "abs_error", "rel_error", "margin")}
        return ValidationEntry("accuracy", self.name, self.passed, self.message, {**figures, "better": self.better})


def _json(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def check_accuracy(
    achieved: float,
    reference: float | Callable[[], float],
    *,
    name: str = "value",
    better: Better = "equal",
    margin: float = 0.0,
    relative: bool = False,
) -> AccuracyResult:
    """Check an achieved value against a reference value or a function that computes it.

    Args:
        achieved: the value measured (an accuracy, a loss, a result).
        reference: the value to compare with, or a zero-argument function returning it.
        name: what is checked, for messages.
        better: ``higher``, ``lower`` or ``equal`` (see :class:`AccuracyResult`).
        margin: the allowed distance; a fraction of ``|reference|`` when ``relative``.
        relative: read ``margin`` as relative.

    Raises:
        ConfigError: ``better`` is not one of higher, lower, equal, or ``margin`` is negative.

    Example:
        >>> r = check_accuracy(0.89, 0.9, name="acc", better="higher", margin=0.02)
        >>> r.passed, round(r.abs_error, 3)
        (True, -0.01)
        >>> check_accuracy(0.85, 0.9, name="acc", better="higher", margin=0.02).passed
        False
    """
    if better not in _BETTER:
        raise ConfigError(f"better must be one of {', '.join(_BETTER)} for {name!r}, got {better!r}.")
    if not (isinstance(margin, (int, float)) and margin >= 0):
        raise ConfigError(f"The margin of {name!r} must be a number >= 0, got {margin!r}.")
    ref = float(reference() if callable(reference) else reference)
    value = float(achieved)
    diff = value - ref
    rel = diff / abs(ref) if ref != 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    allowed = margin * abs(ref) if relative else float(margin)
    if not (math.isfinite(value) and math.isfinite(ref)):
        passed = False
    elif better == "higher":
        passed = diff >= -allowed
    elif better == "lower":
        passed = diff <= allowed
    else:
        passed = abs(diff) <= allowed
    side = {"higher": "below", "lower": "above", "equal": "from"}[better]
    verdict = "within" if passed else "beyond"
    message = (f"{name}: {value:.6g} against reference {ref:.6g} (error {diff:+.3g}, {rel:+.3%}), "
               f"{verdict} the allowed {allowed:.3g} {side} it.")
    return AccuracyResult(name, value, ref, diff, rel, better, allowed, passed, message)


def _finfo(dtype: np.dtype[Any]) -> Any:
    try:
        return np.finfo(dtype)
    except ValueError:  # bfloat16 and other ml_dtypes types have their own finfo
        import ml_dtypes

        return ml_dtypes.finfo(dtype)


def ulp(values: Any, dtype: Any) -> np.ndarray:
    """The unit in the last place of each value in ``dtype`` (as float64).

    The spacing between representable numbers of ``dtype`` at ``|value|``; subnormals and
    zero get the smallest subnormal spacing.

    Example:
        >>> float(ulp(1.0, np.float32)) == 2.0**-23
        True
    """
    info = _finfo(np.dtype(dtype))
    x = np.abs(np.asarray(values, dtype=np.float64))
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log2(np.where(x > 0, x, 1.0)))
    exponent = np.maximum(np.where(x > 0, exponent, info.minexp), info.minexp)
    return np.asarray(np.ldexp(1.0, (exponent - info.nmant).astype(np.int64)), dtype=np.float64)


@dataclass(frozen=True)
class ErrorFigures:
    """How far a computation's outputs are from a reference computation's.

    Attributes:
        name: what was compared (``matmul f32 vs f64``).
        dtype, reference_dtype: the two dtypes.
        size: number of elements compared.
        max_abs, mean_abs: absolute error |out - ref|.
        max_rel, mean_rel: relative error |out - ref| / |ref| over elements with ref != 0.
        max_ulps, mean_ulps: the error in units in the last place of ``dtype`` at the reference.
        limits: the bounds checked (``max_abs``, ``max_rel``, ``max_ulps``), when any.
        passed: False when a bound is exceeded or an output is not finite where the
            reference is.
        message: a full sentence.
    """

    name: str
    dtype: str
    reference_dtype: str
    size: int
    max_abs: float
    mean_abs: float
    max_rel: float
    mean_rel: float
    max_ulps: float
    mean_ulps: float
    limits: Mapping[str, float]
    passed: bool
    message: str

    def to_entry(self) -> ValidationEntry:
        """These figures as a stored validation entry."""
        keys = ("max_abs", "mean_abs", "max_rel", "mean_rel", "max_ulps", "mean_ulps")
        figures: dict[str, Any] = {k: _json(getattr(self, k)) for k in keys}
        figures.update(dtype=self.dtype, reference_dtype=self.reference_dtype, size=self.size, limits=dict(self.limits))
        return ValidationEntry("error", self.name, self.passed, self.message, figures)


def compare_outputs(
    output: Any,
    reference: Any,
    *,
    name: str = "output",
    max_abs: float | None = None,
    max_rel: float | None = None,
    max_ulps: float | None = None,
) -> ErrorFigures:
    """Compare an output with a reference output of higher precision, element by element.

    ULPs are counted in the output's dtype at the reference value, so ``max_ulps`` near 1 means
    the output is as close as its dtype allows.

    Raises:
        ConfigError: the shapes differ, or the output is not a floating-point array.

    Example:
        >>> ref = np.linspace(1, 2, 5)
        >>> f = compare_outputs(ref.astype(np.float32), ref, name="grid", max_ulps=1)
        >>> f.passed, f.max_ulps <= 0.5
        (True, True)
    """
    out = np.asarray(output)
    ref = np.asarray(reference)
    if out.shape != ref.shape:
        raise ConfigError(f"{name}: the output has shape {out.shape} but the reference {ref.shape}; compare like with like.")
    if not (np.issubdtype(out.dtype, np.floating) or "float" in out.dtype.name):  # ml_dtypes' bfloat16 too
        raise ConfigError(f"{name}: the output must be a floating-point array, got dtype {out.dtype}.")
    o64, r64 = out.astype(np.float64), ref.astype(np.float64)
    err = np.abs(o64 - r64)
    bad = ~np.isfinite(o64) & np.isfinite(r64)
    nz = r64 != 0
    rel = err[nz] / np.abs(r64[nz])
    ulps = err / ulp(r64, out.dtype)
    figures = {
        "max_abs": _max(err), "mean_abs": _mean(err), "max_rel": _max(rel), "mean_rel": _mean(rel),
        "max_ulps": _max(ulps), "mean_ulps": _mean(ulps),
    }
    limits = {k: float(v) for k, v in (("max_abs", max_abs), ("max_rel", max_rel), ("max_ulps", max_ulps)) if v is not None}
    broken = [f"{k} {figures[k]:.3g} > {v:g}" for k, v in limits.items() if not figures[k] <= v]
    passed = not broken and not bad.any()
    text = (f"{name} ({out.dtype} against {ref.dtype}, {out.size} values): max abs error {figures['max_abs']:.3g}, "
            f"mean {figures['mean_abs']:.3g}; max relative {figures['max_rel']:.3g}; "
            f"max {figures['max_ulps']:.3g} ULP, mean {figures['mean_ulps']:.3g}")
    if bad.any():
        text += f"; {int(bad.sum())} value(s) are NaN or infinite where the reference is finite"
    text += f"; beyond the bounds: {', '.join(broken)}." if broken else "."
    return ErrorFigures(name, str(out.dtype), str(ref.dtype), int(out.size), limits=limits, passed=passed,
                        message=text, **figures)


def _max(a: np.ndarray) -> float:
    return float(np.max(a)) if a.size else 0.0


def _mean(a: np.ndarray) -> float:
    return float(np.mean(a)) if a.size else 0.0


def compare_precisions(
    fn: Callable[..., Any],
    *args: Any,
    dtype: str = "float32",
    reference_dtype: str = "float64",
    name: str | None = None,
    max_abs: float | None = None,
    max_rel: float | None = None,
    max_ulps: float | None = None,
) -> ErrorFigures:
    """Run ``fn`` with its array arguments cast to ``dtype`` and to ``reference_dtype`` and
    compare the two outputs (see :func:`compare_outputs`).

    64-bit JAX arithmetic is switched on only for the duration of the reference call.

    Example:
        >>> import jax.numpy as jnp
        >>> x = np.random.default_rng(0).standard_normal(1000)
        >>> f = compare_precisions(jnp.sum, x)
        >>> f.dtype, f.reference_dtype, f.max_abs < 1e-4
        ('float32', 'float64', True)
    """
    import jax
    import jax.numpy as jnp

    def cast(value: Any, to: str) -> Any:
        arr = np.asarray(value)
        return jnp.asarray(arr, dtype=to) if np.issubdtype(arr.dtype, np.floating) else value

    label = name or f"{getattr(fn, '__name__', 'fn')} {dtype} vs {reference_dtype}"
    wide = reference_dtype == "float64" or dtype == "float64"
    with jax.enable_x64(wide):
        out = jax.device_get(fn(*(cast(a, dtype) for a in args)))
        ref = jax.device_get(fn(*(cast(a, reference_dtype) for a in args)))
    if np.asarray(ref).dtype != np.dtype(_canonical(reference_dtype)):
        raise ConfigError(f"{label}: the reference came back as {np.asarray(ref).dtype}, not {reference_dtype}; "
                          "make fn keep its input dtype.")
    return compare_outputs(out, ref, name=label, max_abs=max_abs, max_rel=max_rel, max_ulps=max_ulps)


def _canonical(dtype: str) -> Any:
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return dtype
