"""Measured peaks of this machine for the roofline: FLOP/s (large matmul), bandwidth (triad).

``calibrax hardware --calibrate`` measures both once and keeps them in a small JSON file, keyed
by the hardware fingerprint, so the roofline of later runs on the same machine has peaks
without guessing. The file is ``calibration.json`` in ``$CALIBRAX_CACHE_DIR``, else
``$XDG_CACHE_HOME/calibrax``, else ``~/.cache/calibrax``.

- Peak FLOP/s: the best of ``repeats`` runs of an ``n x n`` float32 matmul, 2 n^3 FLOPs each.
- Bandwidth: the STREAM triad ``b = b + s * c`` on float32 vectors with ``b`` donated, so the
  output reuses its buffer; 3 x 4 bytes move per element (read b and c, write b).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Calibration", "calibration_path", "load_calibration", "measure_peaks", "save_calibration"]


@dataclass(frozen=True)
class Calibration:
    """Peaks measured on one machine.

    Attributes:
        peak_flops: best float32 matmul rate, FLOP/s.
        bandwidth: best donated-triad rate, bytes/s.
        matmul_n: the matmul size used.
        triad_elements: the triad's vector length.
        measured_at: ISO-8601 UTC time of the measurement.
        device_kind: the JAX device measured.
    """

    peak_flops: float
    bandwidth: float
    matmul_n: int
    triad_elements: int
    measured_at: str
    device_kind: str


def calibration_path() -> Path:
    """Where calibrations are kept (see the module docstring)."""
    root = os.environ.get("CALIBRAX_CACHE_DIR")
    if root:
        return Path(root) / "calibration.json"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "calibrax" / "calibration.json"


def _best_seconds(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_peaks(matmul_n: int = 2048, triad_elements: int = 1 << 25, repeats: int = 5) -> Calibration:
    """Measure peak FLOP/s and memory bandwidth on JAX's default device.

    Example:
        >>> cal = measure_peaks(matmul_n=128, triad_elements=1 << 16, repeats=2)
        >>> cal.peak_flops > 0 and cal.bandwidth > 0
        True
    """
    import jax
    import jax.numpy as jnp

    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (matmul_n, matmul_n), dtype=jnp.float32)
    b = jax.random.normal(kb, (matmul_n, matmul_n), dtype=jnp.float32)
    mm = jax.jit(jnp.matmul)
    mm(a, b).block_until_ready()
    t_mm = _best_seconds(lambda: mm(a, b).block_until_ready(), repeats)

    # b is donated and the result replaces it, so the output reuses b's buffer (an unused
    # donated argument would be pruned and the output freshly allocated, several times slower).
    triad = jax.jit(lambda x, y: x + 3.0 * y, donate_argnums=0)
    y = jnp.ones(triad_elements, jnp.float32)
    state = {"x": triad(jnp.zeros(triad_elements, jnp.float32), y)}
    state["x"].block_until_ready()

    def run_triad() -> None:
        state["x"] = triad(state["x"], y)
        state["x"].block_until_ready()

    t_triad = _best_seconds(run_triad, repeats)
    return Calibration(
        peak_flops=2.0 * matmul_n**3 / t_mm,
        bandwidth=3.0 * 4 * triad_elements / t_triad,
        matmul_n=matmul_n,
        triad_elements=triad_elements,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        device_kind=jax.devices()[0].device_kind,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_calibration(fingerprint: str, calibration: Calibration, path: Path | None = None) -> Path:
    """Keep ``calibration`` for the machine with ``fingerprint``; returns the file written."""
    path = path or calibration_path()
    data = _read(path)
    data[fingerprint] = asdict(calibration)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_calibration(fingerprint: str, path: Path | None = None) -> Calibration | None:
    """The calibration stored for ``fingerprint``, or None."""
    entry = _read(path or calibration_path()).get(fingerprint)
    if not isinstance(entry, dict):
        return None
    try:
        return Calibration(**entry)
    except TypeError:
        return None
