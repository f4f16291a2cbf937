"""Reference rows of the audio metrics."""

from __future__ import annotations

import numpy as np

from metric_cases._base import PT, Inputs, case


def _signals(rng: np.random.Generator) -> Inputs:
    r = rng.normal(size=(3, 200))
    return (0.8 * r + 0.3 * rng.normal(size=(3, 200)), r), {}


def _spectra(rng: np.random.Generator) -> Inputs:
    r = rng.uniform(0.1, 2.0, (20, 16))
    return (r * rng.uniform(0.5, 1.5, (20, 16)), r), {}


def _si_sdr_ref(e: np.ndarray, r: np.ndarray) -> float:
    out = []
    for a, b in zip(e, r, strict=True):
        a, b = a - a.mean(), b - b.mean()
        target = (a @ b) / (b @ b) * b
        out.append(10 * np.log10(np.sum(target**2) / np.sum((a - target) ** 2)))
    return float(np.mean(out))


case("snr", PT, _signals, lambda e, r: np.mean(10 * np.log10(np.sum(r**2, -1) / np.sum((r - e) ** 2, -1))))
case("si_sdr", PT, _signals, _si_sdr_ref)
case("spectral_convergence", PT, _spectra, lambda e, r: np.linalg.norm(r - e) / np.linalg.norm(r))
case("log_spectral_distance", PT, _spectra,
     lambda e, r: np.mean(np.sqrt(np.mean((10 * np.log10((r + 1e-10) / (e + 1e-10))) ** 2, axis=1))))
case("mel_cepstral_distortion", PT, lambda rng: ((rng.normal(size=(30, 13)), rng.normal(size=(30, 13))), {}),
     lambda e, r: np.mean(10 / np.log(10) * np.sqrt(2 * np.sum((e - r)[:, 1:] ** 2, axis=1))))
