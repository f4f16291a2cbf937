"""Measured peaks of this machine for the roofline: FLOP/s (large matmul), bandwidth (triad).

``calibrax hardware --calibrate`` measures both once and keeps them in a small JSON file, keyed
by the hardware fingerprint, so the roofline of later runs on the same machine has peaks
without guessing. The file is ``calibration.json`` in ``$CALIBRAX_CACHE_DIR``, else
``$XDG_CACHE_HOME/calibrax``, else ``~/.cache/calibrax``.

- Peak FLOP/s per dtype: the best of ``repeats`` runs of an ``n x n`` matmul in float32
  (``fp32``) and in bfloat16 (``bf16``), 2 n^3 FLOPs each, kept as ``{"fp32": ..., "bf16": ...}``.
  (XLA:CPU computes a bf16 matmul in f32 after converting its inputs, so there the bf16 figure
  is the rate a bf16 user sees, converts included.)
- Bandwidth: the STREAM triad ``b = b + s * c`` on float32 vectors with ``b`` donated, so the
  output reuses its buffer; 3 x 4 bytes move per element (read b and c, write b).
- Timer: the device timer (``calibrax.profiling.devicetime.device_measures``, the XLA ops'
  span in a profiler trace) where it works, else wall time around ``block_until_ready``; the
  calibration records which (``timer``) and why the device timer was not used (``timer_note``).

A file written before per-dtype peaks (one ``peak_flops`` number, measured with a float32
matmul and wall time) still loads: its number becomes ``{"fp32": number}``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

__all__ = ["Calibration", "calibration_path", "load_calibration", "measure_peaks", "save_calibration"]


@dataclass(frozen=True)
class Calibration:
    """Peaks measured on one machine.

    Attributes:
        peak_flops: best matmul rate per dtype (``fp32``, ``bf16``), FLOP/s; a single number
            (an old file) is read as the fp32 rate.
        bandwidth: best donated-triad rate, bytes/s.
        matmul_n: the matmul size used.
        triad_elements: the triad's vector length.
        measured_at: ISO-8601 UTC time of the measurement.
        device_kind: the JAX device measured.
        timer: ``device`` (XLA ops' span in a profiler trace) or ``wall``.
        timer_note: why the device timer was not used, when it was not.
    """

    peak_flops: Mapping[str, float]
    bandwidth: float
    matmul_n: int
    triad_elements: int
    measured_at: str
    device_kind: str
    timer: str = "wall"
    timer_note: str | None = field(default=None)

    def __post_init__(self) -> None:
        peaks = self.peak_flops
        if not isinstance(peaks, Mapping):
            peaks = {"fp32": peaks}  # the old scalar form measured a float32 matmul
        object.__setattr__(self, "peak_flops", {str(k): float(v) for k, v in peaks.items()})


def calibration_path() -> Path:
    """Where calibrations are kept (see the module docstring)."""
    root = os.environ.get("CALIBRAX_CACHE_DIR")
    if root:
        return Path(root) / "calibration.json"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "calibrax" / "calibration.json"


def _best_wall(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        _block(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def _block(value: Any) -> Any:
    import jax

    return jax.block_until_ready(value)


def _device_timer() -> tuple[Callable[[Callable[[], Any], int], float] | None, str | None]:
    """A best-of-n device-time function, or (None, why not)."""
    try:
        from calibrax.profiling.devicetime import device_measures
    except ImportError as exc:
        return None, f"the device timer is not available ({exc})"

    def best(fn: Callable[[], Any], repeats: int) -> float:
        found = device_measures(fn, _block, SimpleNamespace(timer="device", device_calls=repeats))
        return min(found["device_time"].samples)

    return best, None


def _timed(fn: Callable[[], Any], repeats: int, state: dict[str, Any]) -> float:
    """Best seconds of ``fn``: device time while it works, wall time once it has failed."""
    if state.get("device") is not None:
        try:
            return float(state["device"](fn, repeats))
        except Exception as exc:  # no trace, no XLA op seen, a profiler already running
            state["device"], state["note"] = None, f"the device timer failed ({type(exc).__name__}: {exc})"
    return _best_wall(fn, repeats)


def measure_peaks(matmul_n: int = 2048, triad_elements: int = 1 << 25, repeats: int = 5,
                  timer: str = "device") -> Calibration:
    """Measure peak FLOP/s per dtype and memory bandwidth on JAX's default device.

    Args:
        matmul_n: the square matmul's size.
        triad_elements: the triad's vector length.
        repeats: timed runs of each; the best is kept.
        timer: ``device`` (falls back to wall time where it cannot work) or ``wall``.

    Raises:
        ValueError: a size or repeat count below 1, or an unknown timer.

    Example:
        >>> cal = measure_peaks(matmul_n=128, triad_elements=1 << 16, repeats=2, timer="wall")
        >>> sorted(cal.peak_flops), cal.bandwidth > 0, cal.timer
        (['bf16', 'fp32'], True, 'wall')
    """
    import jax
    import jax.numpy as jnp

    if min(matmul_n, triad_elements, repeats) < 1:
        raise ValueError(f"matmul_n, triad_elements and repeats must be at least 1, got {matmul_n}, "
                         f"{triad_elements} and {repeats}.")
    if timer not in ("device", "wall"):
        raise ValueError(f"timer must be 'device' or 'wall', got {timer!r}.")
    state: dict[str, Any] = {"device": None, "note": "wall time was asked for"}
    if timer == "device":
        state["device"], state["note"] = _device_timer()
    ka, kb = jax.random.split(jax.random.key(0))
    mm = jax.jit(jnp.matmul)
    peaks: dict[str, float] = {}
    for key, dtype in (("fp32", jnp.float32), ("bf16", jnp.bfloat16)):
        a = jax.random.normal(ka, (matmul_n, matmul_n), dtype=dtype)
        b = jax.random.normal(kb, (matmul_n, matmul_n), dtype=dtype)
        _block(mm(a, b))
        def run_matmul(a: Any = a, b: Any = b) -> Any:
            return mm(a, b)

        peaks[key] = 2.0 * matmul_n**3 / _timed(run_matmul, repeats, state)

    # b is donated and the result replaces it, so the output reuses b's buffer (an unused
    # donated argument would be pruned and the output freshly allocated, several times slower).
    triad = jax.jit(lambda x, y: x + 3.0 * y, donate_argnums=0)
    y = jnp.ones(triad_elements, jnp.float32)
    carried = {"x": triad(jnp.zeros(triad_elements, jnp.float32), y)}
    _block(carried["x"])

    def run_triad() -> Any:
        carried["x"] = triad(carried["x"], y)
        return carried["x"]

    t_triad = _timed(run_triad, repeats, state)
    used = "device" if state["device"] is not None else "wall"
    return Calibration(
        peak_flops=peaks,
        bandwidth=3.0 * 4 * triad_elements / t_triad,
        matmul_n=matmul_n,
        triad_elements=triad_elements,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        device_kind=jax.devices()[0].device_kind,
        timer=used,
        timer_note=None if used == "device" else state["note"],
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
    data[fingerprint] = {**asdict(calibration), "peak_flops": dict(calibration.peak_flops)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_calibration(fingerprint: str, path: Path | None = None) -> Calibration | None:
    """The calibration stored for ``fingerprint`` (old single-peak files too), or None."""
    entry = _read(path or calibration_path()).get(fingerprint)
    if not isinstance(entry, dict):
        return None
    try:
        return Calibration(**entry)
    except (TypeError, ValueError, AttributeError):  # a damaged or foreign entry
        return None
