"""What a run is measured on: host facts (no JAX needed) and JAX device facts."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from calibrax.core.errors import HardwareUnavailableError
from calibrax.core.models import HardwareInfo

__all__ = ["apply_platform", "device_info", "hardware_info", "host_info", "package_versions"]

_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "calibrax")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that change timings (read without importing them)."""
    out: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_info() -> dict[str, Any]:
    """CPU model, logical and usable cores, RAM, OS and Python; cheap and JAX-free."""
    import psutil

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "usable_cores": usable,
        "memory_bytes": int(psutil.virtual_memory().total),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }


def apply_platform(platform_name: str | None) -> None:
    """Make JAX use ``platform_name`` (cpu, gpu, tpu); None keeps JAX's own choice.

    Must run before JAX starts a backend: it sets ``JAX_PLATFORMS`` and, when JAX is already
    imported, the ``jax_platforms`` option.
    """
    if not platform_name:
        return
    os.environ["JAX_PLATFORMS"] = platform_name
    if "jax" in sys.modules:
        import jax

        jax.config.update("jax_platforms", platform_name)


def device_info(required_platform: str | None = None) -> dict[str, Any]:
    """Start JAX's backend and describe its devices.

    Raises:
        HardwareUnavailableError: JAX cannot start ``required_platform`` on this machine.
    """
    import jax

    try:
        devices = jax.devices()
        backend = jax.default_backend()
    except RuntimeError as exc:
        raise HardwareUnavailableError(
            f"The hardware target needs JAX platform {required_platform!r}, which this machine "
            f"cannot start: {str(exc).splitlines()[0]}. Use hardware=cpu or hardware=auto, or "
            "install the matching jax plugin (for example jax[cuda12])."
        ) from None
    if required_platform and required_platform != backend:
        raise HardwareUnavailableError(
            f"The hardware target asks for {required_platform!r} but JAX runs on {backend!r}."
        )
    return {
        "backend": backend,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_platforms": os.environ.get("JAX_PLATFORMS", ""),
    }


def hardware_info(host: dict[str, Any], device: dict[str, Any]) -> HardwareInfo:
    """Combine host and device facts into the stored record."""
    extra = {k: v for k, v in {**host, **device}.items() if k not in _RECORD_FIELDS}
    return HardwareInfo(
        backend=device["backend"],
        device_kind=device["device_kind"],
        device_count=device["device_count"],
        cpu_model=host["cpu_model"],
        cpu_count=host["cpu_count"],
        memory_bytes=host["memory_bytes"],
        platform=host["platform"],
        python=host["python"],
        versions=package_versions(),
        extra=extra,
    )


_RECORD_FIELDS = {
    "backend",
    "device_kind",
    "device_count",
    "cpu_model",
    "cpu_count",
    "memory_bytes",
    "platform",
    "python",
}
