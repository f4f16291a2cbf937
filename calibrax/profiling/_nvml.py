"""Lazy access to NVML (package nvidia-ml-py, module ``pynvml``), matched to JAX's devices.

Every reader returns either a value or the reason it is unavailable, so callers record
"unavailable: <reason>" and never a 0 for a counter they could not read.

NVML numbers GPUs in PCI bus order, CUDA (and so JAX) by its own order over the GPUs that
``CUDA_VISIBLE_DEVICES`` lets it see, whose entries may be indices, UUIDs (``GPU-...``, or a
unique prefix) or MIG ids. :func:`open_devices` therefore finds each JAX device's NVML handle
from, in order: a UUID or PCI bus id the device itself reports; its CUDA ordinal's entry in
``CUDA_VISIBLE_DEVICES`` (by UUID when the entry is one); its CUDA ordinal as the NVML index
(exact with ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, and on machines of identical GPUs). Each handle
records its UUID and how it was matched; two JAX devices on one GPU get one handle.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["INSTALL_HINT", "NvmlHandle", "open_device", "open_devices"]

INSTALL_HINT = "NVML is not installed: pip install calibrax[gpu] (package nvidia-ml-py)"
_lock = threading.Lock()
_initialised = False


def _import() -> Any:
    import pynvml

    return pynvml


def _jax_devices() -> list[Any]:
    """JAX's default device (where an unsharded case runs)."""
    import jax

    return [jax.devices()[0]]


@dataclass
class NvmlHandle:
    """An initialised NVML and the handle of one GPU that JAX uses.

    Attributes:
        nvml: the pynvml module.
        handle: its device handle.
        index: the NVML index (PCI order), or -1 when matched by UUID alone.
        uuid: the GPU's UUID (``GPU-...`` or ``MIG-...``), None when NVML cannot say.
        jax_id: the id of the JAX device it serves.
        matched_by: how the handle was found (see the module docstring).
    """

    nvml: Any
    handle: Any
    index: int
    uuid: str | None = None
    jax_id: int | None = None
    matched_by: str = ""

    def read(self, fn: str, *args: Any) -> tuple[Any, str | None]:
        """Call ``nvml.<fn>(handle, *args)``; return ``(value, None)`` or ``(None, reason)``."""
        try:
            return getattr(self.nvml, fn)(self.handle, *args), None
        except self.nvml.NVMLError as exc:
            return None, f"{fn} failed: {exc}"
        except AttributeError:
            return None, f"this NVML has no {fn}"

    @property
    def label(self) -> str:
        """The key this GPU's figures are kept under in meta: its UUID, else ``nvml:<index>``."""
        return self.uuid or f"nvml:{self.index}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _by_uuid(nvml: Any, uuid: str) -> Any:
    """The handle of the GPU whose UUID is ``uuid`` or starts with it (CUDA accepts prefixes)."""
    try:
        return nvml.nvmlDeviceGetHandleByUUID(uuid)
    except nvml.NVMLError:
        for i in range(int(nvml.nvmlDeviceGetCount())):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            if _text(nvml.nvmlDeviceGetUUID(handle)).startswith(uuid):
                return handle
        raise


def _match(nvml: Any, device: Any) -> tuple[Any, int, str]:
    """(handle, NVML index or -1, how) for one JAX device; raises NVMLError or LookupError."""
    for attr in ("uuid", "device_uuid"):
        value = getattr(device, attr, None)
        if isinstance(value, (str, bytes)) and value:
            return _by_uuid(nvml, _text(value)), -1, f"the JAX device's {attr}"
    bus = getattr(device, "pci_bus_id", None)
    if isinstance(bus, (str, bytes)) and bus:
        return nvml.nvmlDeviceGetHandleByPciBusId(_text(bus)), -1, "the JAX device's pci_bus_id"
    ordinal = getattr(device, "local_hardware_id", None)
    ordinal = int(ordinal if ordinal is not None else getattr(device, "id", 0))
    visible = [e.strip() for e in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if e.strip()]
    if visible:
        if ordinal >= len(visible):
            raise LookupError(f"JAX device {ordinal} has no entry in CUDA_VISIBLE_DEVICES={','.join(visible)}")
        entry = visible[ordinal]
        if not entry.isdigit():
            return _by_uuid(nvml, entry), -1, f"CUDA_VISIBLE_DEVICES entry {entry!r} (UUID)"
        ordinal, how = int(entry), f"CUDA_VISIBLE_DEVICES entry {entry!r} as the NVML index"
    else:
        how = "the CUDA ordinal as the NVML index"
    if os.environ.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        how += " (CUDA_DEVICE_ORDER is not PCI_BUS_ID: exact on machines of identical GPUs)"
    return nvml.nvmlDeviceGetHandleByIndex(ordinal), ordinal, how


def _init() -> tuple[Any, str | None]:
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
        except nvml.NVMLError as exc:
            return None, f"NVML cannot reach a GPU here ({type(exc).__name__}: {exc})"
    return nvml, None


def open_devices(devices: Sequence[Any] | None = None) -> tuple[list[NvmlHandle], str | None]:
    """NVML handles of the GPUs behind ``devices`` (JAX devices; None: JAX's default device).

    Returns ``(handles, None)``, or ``([], reason)`` when NVML is missing, cannot start, the
    devices are not GPUs, or one of them cannot be matched (a partial match would under-count).

    Example:
        >>> handles, reason = open_devices()
        >>> bool(handles) == (reason is None)
        True
    """
    nvml, reason = _init()
    if nvml is None:
        return [], reason
    devices = list(devices) if devices is not None else _jax_devices()
    gpus = [d for d in devices if str(getattr(d, "platform", "")).lower() in ("gpu", "cuda")]
    if not gpus:
        kinds = sorted({str(getattr(d, "platform", "?")) for d in devices}) or ["none"]
        return [], f"the case runs on JAX {'/'.join(kinds)} devices, not on an NVIDIA GPU NVML could read"
    handles: dict[str, NvmlHandle] = {}
    with _lock:
        for device in gpus:
            try:
                handle, index, how = _match(nvml, device)
            except (nvml.NVMLError, LookupError) as exc:
                return [], f"no NVML handle for JAX device {getattr(device, 'id', '?')} ({type(exc).__name__}: {exc})"
            try:
                uuid: str | None = _text(nvml.nvmlDeviceGetUUID(handle))
            except (nvml.NVMLError, AttributeError):
                uuid = None
            if index < 0:
                try:
                    index = int(nvml.nvmlDeviceGetIndex(handle))
                except (nvml.NVMLError, AttributeError):
                    pass
            nv = NvmlHandle(nvml, handle, index, uuid, getattr(device, "id", None), how)
            handles.setdefault(nv.label, nv)
    return list(handles.values()), None


def open_device() -> tuple[NvmlHandle | None, str | None]:
    """The NVML handle of JAX's default device; ``(None, reason)`` when impossible.

    Example:
        >>> handle, reason = open_device()
        >>> (handle is None) == (reason is not None)
        True
    """
    handles, reason = open_devices()
    return (handles[0], None) if handles else (None, reason)
