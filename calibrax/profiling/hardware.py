"""What a run is measured on: host facts (no JAX needed) and JAX device facts.

``host_info`` reads the CPU (model, cores usable by this process, SIMD flags, caches), RAM,
OS and Python; ``device_info`` starts JAX and adds the backend, devices, GPU facts (through
NVML when installed), XLA flags and the environment variables that change results.
``hardware_info`` combines both into the stored record, whose ``fingerprint`` hashes the
parts that decide comparability: the machine, the jax/jaxlib/plugin versions (``versions``),
``XLA_FLAGS`` (``extra["xla_flags"]``) and, on accelerators, JAX's memory-pool settings
(``XLA_PYTHON_CLIENT_PREALLOCATE``, ``XLA_PYTHON_CLIENT_MEM_FRACTION``,
``XLA_PYTHON_CLIENT_ALLOCATOR`` in ``extra["env"]``).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from calibrax.core.errors import HardwareUnavailableError
from calibrax.core.models import HardwareInfo

__all__ = ["ENV_VARS", "apply_platform", "device_info", "gpu_info", "hardware_info", "host_info", "package_versions"]

_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "calibrax", "jax-cuda12-plugin", "jax-cuda13-plugin",
             "jax-cuda12-pjrt", "jax-cuda13-pjrt", "libtpu")
_SIMD = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "avx512_vnni", "amx_bf16",
         "amx_tile", "neon", "asimd", "sve", "sve2")
ENV_VARS = ("XLA_FLAGS", "JAX_PLATFORMS", "JAX_ENABLE_X64", "JAX_DEFAULT_MATMUL_PRECISION",
            "JAX_COMPILATION_CACHE_DIR", "CUDA_VISIBLE_DEVICES", "XLA_PYTHON_CLIENT_PREALLOCATE",
            "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_ALLOCATOR", "OMP_NUM_THREADS",
            "TF_CPP_MIN_LOG_LEVEL", "NVIDIA_TF32_OVERRIDE")
"""Environment variables recorded with the hardware, as they change what JAX does."""


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


def _cpu_flags() -> list[str]:
    """The SIMD-related CPU flags of ``/proc/cpuinfo`` (empty where it is absent)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [f for f in _SIMD if f in have]
    except OSError:
        pass
    return []


def _caches() -> dict[str, str]:
    """CPU cache sizes of core 0 by level and type (``L1d``, ``L2``, ...) from sysfs."""
    out: dict[str, str] = {}
    root = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = sorted(e for e in os.listdir(root) if e.startswith("index"))
    except OSError:
        return out
    for entry in entries:
        try:
            def read(name: str, entry: str = entry) -> str:
                with open(f"{root}/{entry}/{name}", encoding="ascii") as fh:
                    return fh.read().strip()

            kind = {"Data": "d", "Instruction": "i"}.get(read("type"), "")
            out[f"L{read('level')}{kind}"] = read("size")
        except OSError:
            continue
    return out


def host_info() -> dict[str, Any]:
    """CPU model, logical and usable cores, SIMD flags, caches, RAM, OS and Python; JAX-free.

    Example:
        >>> sorted(host_info())[:4]
        ['caches', 'cpu_count', 'cpu_model', 'machine']
    """
    import psutil

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "usable_cores": usable,
        "physical_cores": psutil.cpu_count(logical=False),
        "simd": _cpu_flags(),
        "caches": _caches(),
        "memory_bytes": int(psutil.virtual_memory().total),
        "platform": platform.platform(),
        "os": platform.system(),
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
    out: dict[str, Any] = {
        "backend": backend,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_platforms": os.environ.get("JAX_PLATFORMS", ""),
        "env": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
        "x64": jax.dtypes.canonicalize_dtype(float).itemsize == 8,  # jax_enable_x64
    }
    capability = getattr(devices[0], "compute_capability", None)
    if capability is not None:
        out["compute_capability"] = str(capability)
    if backend in ("gpu", "cuda"):
        out["gpu"] = gpu_info()
    return out


def gpu_info() -> dict[str, Any]:
    """Name, driver, CUDA driver version, compute capability, memory and power limit from NVML.

    Without NVML or a GPU, ``{"unavailable": reason}``.
    """
    from calibrax.profiling._nvml import open_device

    nv, reason = open_device()
    if nv is None:
        return {"unavailable": reason}
    out: dict[str, Any] = {"nvml_index": nv.index, "uuid": nv.uuid, "matched_by": nv.matched_by}

    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    name, _ = nv.read("nvmlDeviceGetName")
    cc, _ = nv.read("nvmlDeviceGetCudaComputeCapability")
    mem, _ = nv.read("nvmlDeviceGetMemoryInfo")
    limit, _ = nv.read("nvmlDeviceGetPowerManagementLimit")
    for key, value in (("name", text(name) if name is not None else None),
                       ("compute_capability", ".".join(map(str, cc)) if cc is not None else None),
                       ("memory_bytes", int(mem.total) if mem is not None else None),
                       ("power_limit_w", float(limit) / 1000.0 if limit is not None else None)):
        if value is not None:
            out[key] = value
    for key, fn in (("driver", "nvmlSystemGetDriverVersion"), ("cuda_driver", "nvmlSystemGetCudaDriverVersion")):
        try:
            out[key] = text(getattr(nv.nvml, fn)())
        except Exception as exc:  # an old NVML, or a driver that refuses
            out[f"{key}_unavailable"] = str(exc)
    return out


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
