"""Image quality: ``fn(predictions, targets)`` on images whose last two axes are height and
width (leading axes, batch or channels, are averaged over).

SSIM uses an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03 and valid filtering.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from calibrax.core.models import Direction
from calibrax.metrics.errors import MetricInputError
from calibrax.metrics.functional._common import as_float, check_same_shape
from calibrax.metrics.registry import Signature, builtin

__all__ = ["ms_ssim", "psnr", "ssim"]

_PT = Signature.PREDICTIONS_TARGETS
_metric = partial(builtin, domain="image")
_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _images(predictions: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    p, t = as_float(predictions, "predictions"), as_float(targets, "targets")
    check_same_shape(p, t)
    if p.ndim < 2:
        raise MetricInputError(f"images need at least 2 dimensions (height, width); got shape {tuple(p.shape)}.")
    dtype = jnp.result_type(p.dtype, t.dtype)
    return p.reshape(-1, *p.shape[-2:]).astype(dtype), t.reshape(-1, *t.shape[-2:]).astype(dtype)


@_metric("psnr", Direction.HIGHER, _PT, symmetric=True, differentiable=True, invariances={"translation", "permutation"})
def psnr(predictions: ArrayLike, targets: ArrayLike, *, data_range: float = 1.0) -> Array:
    """Peak signal-to-noise ratio 10 log10(data_range^2 / MSE) in dB over all pixels.

    Example:
        >>> float(psnr(jnp.zeros((2, 2)), jnp.full((2, 2), 0.1)))
        20.0
    """
    p, t = _images(predictions, targets)
    return 10.0 * jnp.log10(data_range**2 / jnp.mean((p - t) ** 2))


def _gaussian_window(size: int, sigma: float, dtype: jnp.dtype) -> Array:
    x = jnp.arange(size, dtype=dtype) - (size - 1) / 2.0
    g = jnp.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter(img: Array, win: Array) -> Array:
    """Separable valid filtering of (N, H, W) images with a 1-D window."""
    rows = jax.vmap(lambda im: jax.vmap(lambda r: jnp.convolve(r, win, mode="valid"))(im))(img)
    return jax.vmap(lambda im: jax.vmap(lambda c: jnp.convolve(c, win, mode="valid"), in_axes=1, out_axes=1)(im))(rows)


def _ssim_parts(p: Array, t: Array, data_range: float, win: Array) -> tuple[Array, Array]:
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_p, mu_t = _filter(p, win), _filter(t, win)
    var_p = _filter(p * p, win) - mu_p**2
    var_t = _filter(t * t, win) - mu_t**2
    cov = _filter(p * t, win) - mu_p * mu_t
    cs = (2 * cov + c2) / (var_p + var_t + c2)
    lum = (2 * mu_p * mu_t + c1) / (mu_p**2 + mu_t**2 + c1)
    return jnp.mean(lum * cs, axis=(1, 2)), jnp.mean(cs, axis=(1, 2))


def _window(p: Array, kernel_size: int, sigma: float, scales: int = 1) -> Array:
    need = kernel_size * 2 ** (scales - 1)
    if min(p.shape[-2:]) < need:
        raise MetricInputError(
            f"images of {p.shape[-2]}x{p.shape[-1]} are too small for a {kernel_size}-pixel window over "
            f"{scales} scale(s); each side needs at least {need} pixels, or pass a smaller kernel_size."
        )
    return _gaussian_window(kernel_size, sigma, p.dtype)


@_metric("ssim", Direction.HIGHER, _PT, symmetric=True, differentiable=True, invariances={"permutation"})
def ssim(predictions: ArrayLike, targets: ArrayLike, *, data_range: float = 1.0, kernel_size: int = 11,
         sigma: float = 1.5) -> Array:
    """Structural similarity index, averaged over the valid windows and the images.

    Example:
        >>> float(ssim(jnp.ones((16, 16)), jnp.ones((16, 16))))
        1.0

    References:
        Wang et al. (2004), Image quality assessment: from error visibility to structural
        similarity.
    """
    p, t = _images(predictions, targets)
    s, _ = _ssim_parts(p, t, data_range, _window(p, kernel_size, sigma))
    return jnp.mean(s)


def _pool2(x: Array) -> Array:
    h, w = (x.shape[1] // 2) * 2, (x.shape[2] // 2) * 2
    x = x[:, :h, :w]
    return 0.25 * (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2])


@_metric("ms_ssim", Direction.HIGHER, _PT, symmetric=True, differentiable=True, invariances={"permutation"})
def ms_ssim(predictions: ArrayLike, targets: ArrayLike, *, data_range: float = 1.0, kernel_size: int = 11,
            sigma: float = 1.5, weights: tuple[float, ...] = _MS_WEIGHTS) -> Array:
    """Multi-scale SSIM: contrast-structure terms at coarser 2x2-averaged scales, SSIM at the
    last, combined as prod_j cs_j^w_j (negative terms clipped to 0).

    Example:
        >>> float(ms_ssim(jnp.ones((48, 48)), jnp.ones((48, 48)), kernel_size=3))
        1.0

    References:
        Wang, Simoncelli and Bovik (2003), Multiscale structural similarity for image quality
        assessment.
    """
    p, t = _images(predictions, targets)
    win = _window(p, kernel_size, sigma, len(weights))
    terms = []
    for j, _ in enumerate(weights):
        s, cs = _ssim_parts(p, t, data_range, win)
        terms.append(s if j == len(weights) - 1 else cs)
        p, t = _pool2(p), _pool2(t)
    stacked = jnp.maximum(jnp.stack(terms, axis=1), 0.0)
    return jnp.mean(jnp.prod(stacked ** jnp.asarray(weights, stacked.dtype), axis=1))
