"""Audio quality: signals ``fn(estimate, reference)`` with time on the last axis, or
spectra / cepstra ``(frames, bins)``. Values in dB are averaged over leading axes.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape
from calibrax.metrics.registry import Signature, builtin

__all__ = ["log_spectral_distance", "mel_cepstral_distortion", "si_sdr", "snr", "spectral_convergence"]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="audio")


def _pair(estimate: ArrayLike, reference: ArrayLike) -> tuple[Array, Array]:
    e, r = as_float(estimate, "estimate"), as_float(reference, "reference")
    check_same_shape(e, r, ("estimate", "reference"))
    dtype = jnp.result_type(e.dtype, r.dtype)
    return e.astype(dtype), r.astype(dtype)


@_metric("snr", Direction.HIGHER, _PT, differentiable=True, invariances={"scale", "permutation"})
def snr(estimate: ArrayLike, reference: ArrayLike) -> Array:
    """Signal-to-noise ratio 10 log10(|reference|^2 / |reference - estimate|^2) in dB.

    Example:
        >>> round(float(snr(jnp.array([1.0, 0.0]), jnp.array([1.0, 1.0]))), 4)
        3.0103
    """
    e, r = _pair(estimate, reference)
    return jnp.mean(10.0 * jnp.log10(jnp.sum(r**2, axis=-1) / jnp.sum((r - e) ** 2, axis=-1)))


@_metric("si_sdr", Direction.HIGHER, _PT, differentiable=True, invariances={"scale", "permutation"})
def si_sdr(estimate: ArrayLike, reference: ArrayLike, *, zero_mean: bool = True) -> Array:
    """Scale-invariant signal-to-distortion ratio in dB (signals made zero-mean first).

    Example:
        >>> round(float(si_sdr(jnp.array([2.0, 0.0, -1.0, -1.0]), jnp.array([1.0, 0.0, -1.0, 0.0]))), 4)
        4.7712

    References:
        Le Roux et al. (2019), SDR: half-baked or well done?
    """
    e, r = _pair(estimate, reference)
    if zero_mean:
        e, r = e - e.mean(axis=-1, keepdims=True), r - r.mean(axis=-1, keepdims=True)
    alpha = jnp.sum(e * r, axis=-1, keepdims=True) / jnp.sum(r * r, axis=-1, keepdims=True)
    target = alpha * r
    return jnp.mean(10.0 * jnp.log10(jnp.sum(target**2, axis=-1) / jnp.sum((e - target) ** 2, axis=-1)))


@_metric("spectral_convergence", Direction.LOWER, _PT, non_negative=True, differentiable=True,
         invariances={"scale", "permutation"})
def spectral_convergence(estimate: ArrayLike, reference: ArrayLike) -> Array:
    """Spectral convergence |S_ref - S_est|_F / |S_ref|_F of magnitude spectrograms.

    Example:
        >>> float(spectral_convergence(jnp.array([[3.0, 0.0]]), jnp.array([[0.0, 4.0]])))
        1.25

    References:
        Arik et al. (2019), Fast spectrogram inversion using multi-head convolutional networks.
    """
    e, r = _pair(estimate, reference)
    return jnp.linalg.norm((r - e).ravel()) / jnp.linalg.norm(r.ravel())


@_metric("log_spectral_distance", Direction.LOWER, _PT, symmetric=True, non_negative=True, differentiable=True,
         invariances={"scale", "permutation"})
def log_spectral_distance(estimate: ArrayLike, reference: ArrayLike, *, eps: float = 1e-10) -> Array:
    """Log-spectral distance in dB of power spectra (frames, bins): per frame
    sqrt(mean over bins (10 log10(P_ref / P_est))^2), averaged over frames.

    Example:
        >>> float(log_spectral_distance(jnp.array([[10.0, 10.0]]), jnp.array([[1.0, 1.0]])))
        10.0

    References:
        Gray and Markel (1976), Distance measures for speech processing.
    """
    e, r = _pair(estimate, reference)
    if e.ndim < 2:
        e, r = e[None], r[None]
    diff = 10.0 * (jnp.log10(r + eps) - jnp.log10(e + eps))
    s = jnp.mean(diff**2, axis=-1)
    return jnp.mean(jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0))


@_metric("mel_cepstral_distortion", Direction.LOWER, _PT, symmetric=True, non_negative=True, differentiable=True,
         invariances={"permutation"})
def mel_cepstral_distortion(estimate: ArrayLike, reference: ArrayLike, *, include_c0: bool = False) -> Array:
    """Mel-cepstral distortion in dB of aligned cepstra (frames, coefficients):
    (10 / ln 10) sqrt(2 sum_d (c_d - c'_d)^2) per frame, averaged; c0 excluded by default.

    Example:
        >>> round(float(mel_cepstral_distortion(jnp.array([[0.0, 1.0]]), jnp.array([[5.0, 0.0]]))), 4)
        6.1419

    References:
        Kubichek (1993), Mel-cepstral distance measure for objective speech quality assessment.
    """
    e, r = _pair(estimate, reference)
    if e.ndim != 2:
        raise MetricInputError(f"cepstra must be (frames, coefficients); got shape {tuple(e.shape)}.")
    d = (e - r) if include_c0 else (e - r)[:, 1:]
    s = 2.0 * jnp.sum(d**2, axis=-1)
    return jnp.mean(10.0 / jnp.log(10.0) * jnp.where(s > 0, jnp.sqrt(jnp.where(s > 0, s, 1.0)), 0.0))
