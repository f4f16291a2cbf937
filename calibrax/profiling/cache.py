"""Cold caches for timing: the last-level cache size, a flush kernel and rotated inputs.

``profile.cache=cold`` runs :class:`CacheFlusher` before every timed call, outside the call's
timed span, as triton's ``do_bench`` (a 256 MB write) and nvbench (an L2-sized memset) do; with
the device timer, the flush kernel is left out by its HLO module name
(:data:`FLUSH_MODULE`). ``profile.inputs=rotate`` cycles through :func:`rotated_args`, copies of
the arguments whose total exceeds the cache, so no call finds its inputs where the previous one
left them. See shared/REFERENCE.md, "Device time, caches and donation".

Nothing here starts a JAX backend at import.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from calibrax.core.errors import ConfigError

__all__ = [
    "DEFAULT_GPU_CACHE_BYTES",
    "FLUSH_MODULE",
    "CacheFlusher",
    "cache_info",
    "last_level_cache_bytes",
    "rotated_args",
]

DEFAULT_GPU_CACHE_BYTES = 256 * 2**20
"""Assumed GPU L2 size when the device does not report one (triton's ``do_bench`` flush size)."""

FLUSH_MODULE = "jit_calibrax_cache_flush"
"""HLO module name of the flush kernel; the device timer leaves its ops out."""

_SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")
_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38  # CUdevice_attribute in cuda.h
_MAX_COPIES = 4096


def _parse_size(text: str) -> int | None:
    """``"48K"``, ``"2048K"``, ``"32 MiB"``, ``"1M"`` -> bytes."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?B)?\s*", text, flags=re.IGNORECASE)
    if not m:
        return None
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2).upper()]
    return int(float(m.group(1)) * scale)


def _cpu_cache(root: Path = _SYSFS_CACHE) -> tuple[int, str] | None:
    """The largest data or unified cache level of CPU 0, from sysfs: (bytes, source)."""
    best: tuple[int, int] | None = None
    for entry in sorted(root.glob("index*")):
        try:
            kind = (entry / "type").read_text().strip()
            level = int((entry / "level").read_text().strip())
            size = _parse_size((entry / "size").read_text())
        except (OSError, ValueError):
            continue
        if kind == "Instruction" or not size:
            continue
        if best is None or (level, size) > best:
            best = (level, size)
    if best is None:
        return None
    return best[1], f"sysfs {root}/index*: L{best[0]} of cpu0"


def _cuda_l2_bytes(ordinal: int) -> int | None:
    """L2 size of CUDA device ``ordinal`` through the driver API, or None."""
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        value, dev = ctypes.c_int(0), ctypes.c_int(0)
        try:
            if lib.cuInit(0) != 0 or lib.cuDeviceGet(ctypes.byref(dev), ordinal) != 0:
                return None
            status = lib.cuDeviceGetAttribute(ctypes.byref(value), _CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev)
        except AttributeError:
            return None
        return value.value if status == 0 and value.value > 0 else None
    return None


def _gpu_cache(device: Any) -> tuple[int, str]:
    for attr in ("l2_cache_size", "l2_cache_size_bytes"):
        size = getattr(device, attr, None)
        if isinstance(size, int) and size > 0:
            return size, f"jax Device.{attr}"
    hardware_id = getattr(device, "local_hardware_id", None)  # the CUDA ordinal on a GPU
    ordinal = int(getattr(device, "id", 0) if hardware_id is None else hardware_id)
    size = _cuda_l2_bytes(ordinal) if getattr(device, "platform", "") == "gpu" else None
    if size:
        return size, f"CUDA driver cuDeviceGetAttribute(L2_CACHE_SIZE) of device {ordinal}"
    return DEFAULT_GPU_CACHE_BYTES, "default 256 MiB: the device reports no L2 size"


def cache_info(device: Any = None) -> tuple[int | None, str]:
    """The last-level cache size of ``device`` (default: JAX's first device) and its source.

    Returns:
        ``(bytes, source)``; bytes is None when nothing reports a size (the source says why).

    Example:
        >>> size, source = cache_info()
        >>> size is None or size > 0
        True
    """
    platform = getattr(device, "platform", None)
    if device is None:
        import jax

        device = jax.devices()[0]
        platform = device.platform
    if platform == "cpu":
        found = _cpu_cache() or _lscpu_cache()
        return found if found else (None, "no cache size in sysfs or lscpu")
    return _gpu_cache(device)


def _lscpu_cache() -> tuple[int, str] | None:
    """Fallback where sysfs has no cache entries: the largest level that ``lscpu -C`` lists."""
    import subprocess

    try:
        text = subprocess.run(["lscpu", "-B", "-C=LEVEL,TYPE,ONE-SIZE"], capture_output=True, text=True,
                              timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    rows = [line.split() for line in text.splitlines()[1:]]
    sizes = [(int(r[0]), int(r[2])) for r in rows if len(r) == 3 and r[1] != "Instruction"
             and r[0].isdigit() and r[2].isdigit()]
    if not sizes:
        return None
    level, size = max(sizes)
    return size, f"lscpu -C: L{level}"


def last_level_cache_bytes(device: Any = None) -> int | None:
    """Size in bytes of the last-level cache in front of ``device``'s memory, or None.

    CPU: the largest data/unified level of CPU 0 in sysfs. GPU: the L2 size reported by the
    device (JAX attribute or the CUDA driver), else 256 MiB. :func:`cache_info` also gives where
    the figure came from.

    Example:
        >>> n = last_level_cache_bytes()
        >>> n is None or n > 0
        True
    """
    return cache_info(device)[0]


class CacheFlusher:
    """Evicts the caches in front of a device's memory by rewriting a large buffer.

    Each call runs one jitted kernel that reads and rewrites (``buf + step``, donated, so in
    place) every byte of an ``int32`` buffer of ``nbytes`` (default: twice the last-level
    cache), then blocks. ``step`` is a device counter that the kernel also advances, so no call
    is a no-op and XLA cannot fold the write away.

    Attributes:
        nbytes: bytes written per call (rounded down to a multiple of 4).
        module_name: HLO module name of the kernel (:data:`FLUSH_MODULE`).
        source: where the cache size came from (``"explicit nbytes"`` when given).
        calls: how many flushes have run.

    Example:
        >>> flush = CacheFlusher(nbytes=1 << 16)
        >>> flush(); flush.calls
        1
    """

    module_name: str = FLUSH_MODULE

    def __init__(self, nbytes: int | None = None, device: Any = None) -> None:
        import jax
        import jax.numpy as jnp

        self.device = device if device is not None else jax.devices()[0]
        if nbytes is None:
            size, source = cache_info(self.device)
            if size is None:
                raise ConfigError(
                    f"profile.cache=cold needs the last-level cache size of {self.device}, but {source}; "
                    "pass CacheFlusher(nbytes=...) with the size to write."
                )
            nbytes, self.source = 2 * size, f"2 x {size} B last-level cache ({source})"
        else:
            self.source = "explicit nbytes"
        if not isinstance(nbytes, int) or nbytes < 4:
            raise ConfigError(f"CacheFlusher nbytes must be an integer >= 4, got {nbytes!r}.")
        self.nbytes = nbytes // 4 * 4
        self.calls = 0
        sharding = jax.sharding.SingleDeviceSharding(self.device)
        n = self.nbytes // 4
        self._buf = jax.jit(lambda: jnp.zeros((n,), jnp.int32), out_shardings=sharding)()
        self._step = jax.device_put(jnp.int32(1), sharding)

        def calibrax_cache_flush(buf: Any, step: Any) -> tuple[Any, Any]:
            return buf + step, step + 1

        self._kernel = jax.jit(calibrax_cache_flush, donate_argnums=(0, 1))
        self._buf, self._step = jax.block_until_ready(self._kernel(self._buf, self._step))

    @property
    def buffer(self) -> Any:
        """The flushed buffer as it is now (every element is 1 + 2 + ... + (calls + 1): a check that each flush ran)."""
        return self._buf

    def __call__(self) -> None:
        """Run one flush on the device and wait for it."""
        self._buf, self._step = self._kernel(self._buf, self._step)
        self._buf.block_until_ready()
        self.calls += 1

    def __repr__(self) -> str:
        return f"CacheFlusher(nbytes={self.nbytes}, device={self.device}, source={self.source!r})"


def _is_array(x: Any) -> bool:
    import jax
    import numpy as np

    return isinstance(x, (jax.Array, np.ndarray))


def rotated_args(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    cache_bytes: int,
    *,
    max_copies: int = _MAX_COPIES,
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Copies of ``(args, kwargs)`` whose array bytes together exceed ``cache_bytes``.

    Array leaves (``jax.Array`` and NumPy arrays) are copied onto the device of the original
    (NumPy ones onto the default device); other leaves are shared. At least two copies are made,
    so consecutive calls never share inputs.

    Raises:
        ConfigError: the arguments hold no array, or more than ``max_copies`` copies would be
            needed (tiny inputs: use ``profile.cache=cold`` instead).

    Example:
        >>> import jax.numpy as jnp
        >>> sets = rotated_args((jnp.ones(256),), {}, cache_bytes=4096)
        >>> len(sets)
        5
    """
    import jax
    import jax.numpy as jnp

    leaves = jax.tree_util.tree_leaves((tuple(args), dict(kwargs)))
    per_copy = sum(int(x.nbytes) for x in leaves if _is_array(x))
    if per_copy == 0:
        raise ConfigError(
            f"profile.inputs=rotate needs array arguments to copy, but the arguments hold none "
            f"({len(leaves)} leaves: {sorted({type(x).__name__ for x in leaves})}); use "
            "profile.inputs=reuse, or profile.cache=cold to evict caches without copies."
        )
    copies = max(2, cache_bytes // per_copy + 1)
    if copies > max_copies:
        raise ConfigError(
            f"profile.inputs=rotate would need {copies} copies of {per_copy} B of arguments to exceed "
            f"the {cache_bytes} B cache (limit {max_copies}); use profile.cache=cold for inputs this small."
        )

    def copy(x: Any) -> Any:
        if isinstance(x, jax.Array):
            return jnp.array(x, copy=True, device=x.sharding)
        if _is_array(x):
            return jnp.asarray(x)
        return x

    out = []
    for _ in range(copies):
        a, k = jax.tree_util.tree_map(copy, (tuple(args), dict(kwargs)))
        out.append((tuple(a), dict(k)))
    jax.block_until_ready(out)
    return out
