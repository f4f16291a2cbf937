"""Reference rows of the image metrics."""

from __future__ import annotations

import numpy as np
import scipy.signal as ssg

from metric_cases._base import PT, case


def _imgs(rng: np.random.Generator, shape: tuple[int, ...] = (2, 24, 24)) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(size=shape)
    return np.clip(t + 0.1 * rng.normal(size=shape), 0, 1), t


def _ssim_ref_parts(p: np.ndarray, t: np.ndarray, k: int, sigma: float = 1.5) -> tuple[float, float]:
    x = np.arange(k) - (k - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    w = np.outer(g, g)
    f = lambda im: ssg.convolve2d(im, w, mode="valid")  # noqa: E731
    c1, c2 = 0.01**2, 0.03**2
    mp, mt = f(p), f(t)
    vp, vt, cv = f(p * p) - mp**2, f(t * t) - mt**2, f(p * t) - mp * mt
    cs = (2 * cv + c2) / (vp + vt + c2)
    return float(np.mean((2 * mp * mt + c1) / (mp**2 + mt**2 + c1) * cs)), float(np.mean(cs))


def _ssim_ref(p: np.ndarray, t: np.ndarray, kernel_size: int = 11) -> float:
    return float(np.mean([_ssim_ref_parts(a, b, kernel_size)[0] for a, b in zip(p, t, strict=True)]))


def _ms_ssim_ref(p: np.ndarray, t: np.ndarray, kernel_size: int) -> float:
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    out = []
    for a, b in zip(p, t, strict=True):
        val = 1.0
        for j, wj in enumerate(weights):
            s, cs = _ssim_ref_parts(a, b, kernel_size)
            val *= max(s if j == len(weights) - 1 else cs, 0.0) ** wj
            if j == len(weights) - 1:
                break
            a = a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3))
            b = b.reshape(b.shape[0] // 2, 2, b.shape[1] // 2, 2).mean(axis=(1, 3))
        out.append(val)
    return float(np.mean(out))


case("psnr", PT, lambda rng: (_imgs(rng), {"data_range": 1.0}),
     lambda p, t, data_range: 10 * np.log10(data_range**2 / np.mean((p - t) ** 2)))
case("ssim", PT, lambda rng: (_imgs(rng), {"kernel_size": 7}), _ssim_ref)
case("ms_ssim", PT, lambda rng: (_imgs(rng, (1, 48, 48)), {"kernel_size": 3}), _ms_ssim_ref)
