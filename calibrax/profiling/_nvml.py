"""Lazy access to NVML (package nvidia-ml-py, module ``pynvml``).

Every reader returns either a value or the reason it is unavailable, so callers record
"unavailable: <reason>" and never a 0 for a counter they could not read.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["INSTALL_HINT", "NvmlHandle", "open_device"]

INSTALL_HINT = "NVML is not installed: pip install calibrax[gpu] (package nvidia-ml-py)"
_lock = threading.Lock()
_initialised = False


def _import() -> Any:
    import pynvml

    return pynvml


@dataclass
class NvmlHandle:
    """An initialised NVML and the handle of the GPU JAX uses."""

    nvml: Any
    handle: Any
    index: int

    def read(self, fn: str, *args: Any) -> tuple[Any, str | None]:
        """Call ``nvml.<fn>(handle, *args)``; return ``(value, None)`` or ``(None, reason)``."""
        try:
            return getattr(self.nvml, fn)(self.handle, *args), None
        except self.nvml.NVMLError as exc:
            return None, f"{fn} failed: {exc}"
        except AttributeError:
            return None, f"this NVML has no {fn}"


def _visible_index() -> int:
    """The NVML index of the first GPU JAX sees (CUDA_VISIBLE_DEVICES' first entry, if numeric)."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return int(first) if first.isdigit() else 0


def open_device() -> tuple[NvmlHandle | None, str | None]:
    """Initialise NVML once and open the GPU JAX uses; ``(None, reason)`` when impossible.

    Example:
        >>> handle, reason = open_device()
        >>> (handle is None) == (reason is not None)
        True
    """
    global _initialised
    try:
        nvml = _import()
    except ImportError:
        return None, INSTALL_HINT
    with _lock:
        try:
            if not _initialised:
                nvml.nvmlInit()
                _initialised = True
            index = _visible_index()
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
        except nvml.NVMLError as exc:
            return None, f"NVML cannot reach a GPU here ({type(exc).__name__}: {exc})"
    return NvmlHandle(nvml, handle, index), None
