"""``calibrax hardware``: print this machine's fingerprint; ``--calibrate`` measures its peaks."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

__all__ = ["hardware"]


def _describe(platform: str | None) -> dict[str, Any]:
    """The fingerprint record, with the stored calibration when there is one."""
    from calibrax.profiling.calibrate import calibration_path, load_calibration
    from calibrax.profiling.hardware import apply_platform, device_info, hardware_info, host_info

    apply_platform(platform)
    info = hardware_info(host_info(), device_info(platform))
    data = {**asdict(info), "fingerprint": info.fingerprint}
    cal = load_calibration(info.fingerprint)
    data["calibration"] = asdict(cal) if cal is not None else None
    data["calibration_file"] = str(calibration_path())
    return data


def _render(data: dict[str, Any]) -> None:
    extra = data.get("extra") or {}
    rows = [
        ("fingerprint", data["fingerprint"]),
        ("backend", f"{data['backend']} ({data['device_count']} x {data['device_kind']})"),
        ("cpu", f"{data['cpu_model']}, {data['cpu_count']} logical, {extra.get('usable_cores', '?')} usable"),
        ("simd", " ".join(extra.get("simd") or []) or "-"),
        ("caches", " ".join(f"{k}={v}" for k, v in (extra.get("caches") or {}).items()) or "-"),
        ("memory", f"{data['memory_bytes'] / 2**30:.1f} GiB"),
        ("os", data["platform"]),
        ("python", data["python"]),
        ("versions", " ".join(f"{k}={v}" for k, v in data["versions"].items())),
        ("xla_flags", extra.get("xla_flags") or "-"),
        ("env", " ".join(f"{k}={v}" for k, v in (extra.get("env") or {}).items()) or "-"),
    ]
    gpu = extra.get("gpu")
    if gpu:
        rows.append(("gpu", " ".join(f"{k}={v}" for k, v in gpu.items())))
    cal = data.get("calibration")
    if cal:
        peaks = ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in cal["peak_flops"].items())
        timer = f"{cal.get('timer', 'wall')} timer" + (f" because {cal['timer_note']}" if cal.get("timer_note") else "")
        rows.append(("calibrated", f"{peaks}, {cal['bandwidth'] / 1e9:.1f} GB/s "
                                   f"({cal['measured_at']}, {timer}, {data['calibration_file']})"))
    else:
        rows.append(("calibrated", "no (calibrax hardware --calibrate)"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {value}")


@click.command("hardware")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--calibrate", is_flag=True, help="Measure peak FLOP/s and bandwidth and store them for the roofline.")
@click.option("--platform", default=None, help="JAX platform to describe (cpu, gpu); default: JAX's choice.")
@click.option("--matmul-n", default=2048, show_default=True, type=click.IntRange(min=1),
              help="Matmul size for --calibrate.")
@click.option("--triad-elements", default=1 << 25, show_default=True, type=click.IntRange(min=1),
              help="Triad vector length for --calibrate.")
@click.option("--timer", type=click.Choice(["device", "wall"]), default="device", show_default=True,
              help="How --calibrate times: the device timer (falls back to wall time where it cannot work) or wall.")
def hardware(as_json: bool, calibrate: bool, platform: str | None, matmul_n: int, triad_elements: int,
             timer: str) -> None:
    """Show the machine's hardware fingerprint; with --calibrate, measure and store its peaks.

    The peaks (large float32 and bfloat16 matmuls, kept per dtype, and a donated triad) are
    kept in calibration.json in $CALIBRAX_CACHE_DIR (else ~/.cache/calibrax), keyed by
    fingerprint; runs on this machine use them for the roofline when the hardware target
    declares no peaks.

    Example: calibrax hardware --calibrate
    """
    data = _describe(platform)
    if calibrate:
        from calibrax.profiling.calibrate import load_calibration, measure_peaks, save_calibration

        path = save_calibration(data["fingerprint"], measure_peaks(matmul_n, triad_elements, timer=timer))
        cal = load_calibration(data["fingerprint"], path)
        data["calibration"] = asdict(cal) if cal is not None else None
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        _render(data)
