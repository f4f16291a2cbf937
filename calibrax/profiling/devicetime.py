"""Device time per call from a ``jax.profiler`` trace (``profile.timer=device``) or CUPTI.

``profile.timer=device`` records ``device_calls`` calls under ``jax.profiler``, each inside a
``StepTraceAnnotation`` (flushes, when ``profile.cache=cold``, run between the annotations).
From the trace (``jax.profiler.ProfileData``, see ``_trace``) each call's device span is the
first start to the last end of the XLA ops that began inside its annotation, on the device
lines when there are any (GPU, TPU), else on the host threads that run XLA:CPU thunks; the
flush kernel's module (:data:`calibrax.profiling.cache.FLUSH_MODULE`) is left out. This is the
span tokamax's XProf timer takes of the ``XLA Ops`` line; it includes gaps between kernels of
one call, not the host's dispatch before the first.

``profile.timer=cupti`` (NVIDIA only) sums the kernel durations that CUPTI reports for each
call, through ``jax.experimental.mosaic.gpu.profiler``'s extension, as tokamax's default GPU
timer does (CUPTI allows one subscriber: not beside Nsight).

Measures: ``device_time`` (s per call, one sample per call) and ``dispatch_overhead`` (the
call's wall time, perf_counter around call and block, minus its device time). The wall time is
taken under the profiler, which adds a little host overhead of its own.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from calibrax.core.errors import BenchmarkError, ConfigError
from calibrax.core.models import STANDARD_MEASURES, MeasureResult
from calibrax.profiling._trace import OpEvent, Span, op_events, step_spans
from calibrax.profiling.cache import FLUSH_MODULE, CacheFlusher

__all__ = ["STEP_NAME", "TOP_KERNELS", "DeviceTimeError", "DeviceTimerSettings", "cupti_kernel_times",
           "device_measures"]

STEP_NAME = "calibrax_device_call"
"""Name of the step annotation around each recorded call."""

TOP_KERNELS = 10
"""How many ops or kernels the meta lists, by total time."""

_NS = 1e-9


class DeviceTimeError(BenchmarkError):
    """Raised when a trace shows no device work for a call, or a device span longer than its call."""


class DeviceTimerSettings(Protocol):
    """The two fields of ``TimingProtocol`` that the device timer reads."""

    @property
    def timer(self) -> Any: ...  # "wall", "device" or "cupti" (a str or a str Enum)

    @property
    def device_calls(self) -> int: ...  # calls recorded, >= 1: samples of device_time


def _settings(protocol: DeviceTimerSettings) -> tuple[str, int]:
    timer = str(getattr(protocol.timer, "value", protocol.timer))
    if timer not in ("wall", "device", "cupti"):
        raise ConfigError(f"profile.timer must be 'wall', 'device' or 'cupti', got {timer!r}.")
    calls = protocol.device_calls
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
        raise ConfigError(f"profile.device_calls must be an integer >= 1, got {calls!r}.")
    return timer, calls


def device_measures(
    call: Callable[[], Any],
    block: Callable[[Any], Any],
    protocol: DeviceTimerSettings,
    flush: CacheFlusher | None = None,
) -> dict[str, MeasureResult]:
    """``device_time`` and ``dispatch_overhead`` of ``protocol.device_calls`` calls.

    Args:
        call: runs the workload once (already warmed up and compiled) and returns its outputs.
        block: waits for those outputs (``jax.block_until_ready`` or cheaper).
        protocol: ``timer`` (``wall``: nothing to do, returns ``{}``; ``device``; ``cupti``)
            and ``device_calls``.
        flush: run before every recorded call, outside its span (``profile.cache=cold``).

    Raises:
        DeviceTimeError: a call ran no XLA op (a plain Python callable), or a span came out
            longer than its call's wall time.
        ConfigError: ``cupti`` where CUPTI or an NVIDIA GPU is missing.

    Example:
        >>> import jax, jax.numpy as jnp, types
        >>> f, x = jax.jit(lambda a: a @ a), jnp.ones((64, 64))
        >>> f(x).block_until_ready()  # doctest: +ELLIPSIS
        Array(...)
        >>> out = device_measures(lambda: f(x), jax.block_until_ready,
        ...                       types.SimpleNamespace(timer="device", device_calls=3))
        >>> len(out["device_time"].samples)
        3
    """
    timer, calls = _settings(protocol)
    if timer == "wall":
        return {}
    if timer == "cupti":
        ext = _cupti_extension()
        walls, kernels = _cupti_calls(ext, call, block, calls, flush)
        return _results(walls, [sum(t for _, t in k) for k in kernels], _cupti_meta(kernels, flush))
    walls, spans, meta = _traced_calls(call, block, calls, flush)
    return _results(walls, spans, meta)


def _results(walls: Sequence[float], device: Sequence[float], meta: dict[str, Any]) -> dict[str, MeasureResult]:
    for i, (w, d) in enumerate(zip(walls, device, strict=True)):
        if not 0 < d <= w:
            raise DeviceTimeError(
                f"Call {i} of the device timer ({meta['timer']}) has a device time of {d * 1e6:.3f} us but "
                f"a wall time of {w * 1e6:.3f} us; device time must be > 0 and no longer than the call. "
                f"The trace and the host clock disagree: report this with the trace "
                f"({meta.get('trace_dir', 'not kept')}), and use profile.timer=wall meanwhile."
            )
    return {
        "device_time": MeasureResult(STANDARD_MEASURES["device_time"], tuple(device), meta=meta),
        "dispatch_overhead": MeasureResult(STANDARD_MEASURES["dispatch_overhead"],
                                           tuple(w - d for w, d in zip(walls, device, strict=True)),
                                           meta={"timer": meta["timer"], "calls": meta["calls"],
                                                 "wall_mean_s": sum(walls) / len(walls)}),
    }


def _traced_calls(
    call: Callable[[], Any], block: Callable[[Any], Any], calls: int, flush: CacheFlusher | None
) -> tuple[list[float], list[float], dict[str, Any]]:
    """Wall times, device spans (s) and meta of ``calls`` calls recorded in one trace."""
    import jax

    folder = tempfile.mkdtemp(prefix="calibrax-devicetime-")
    options = jax.profiler.ProfileOptions()
    options.python_tracer_level = 0  # a Python tracer would slow every call it records
    clock = time.perf_counter_ns
    walls: list[float] = []
    jax.profiler.start_trace(folder, profiler_options=options)
    try:
        block(call())  # untimed: the profiler's first call pays for its buffers
        for i in range(calls):
            if flush is not None:
                flush()
            t0 = clock()
            with jax.profiler.StepTraceAnnotation(STEP_NAME, step_num=i):
                block(call())
            walls.append((clock() - t0) * _NS)
    finally:
        jax.profiler.stop_trace()
    spans, meta = _spans(Path(folder), calls, flush)
    if all(0 < d <= w for d, w in zip(spans, walls, strict=True)):
        shutil.rmtree(folder, ignore_errors=True)
    else:
        meta["trace_dir"] = folder  # kept for the error that _results raises
    return walls, spans, meta


def _spans(folder: Path, calls: int, flush: CacheFlusher | None) -> tuple[list[float], dict[str, Any]]:
    """Each recorded call's device span (s) from the trace in ``folder``, and the meta."""
    profile = _load_profile(folder)
    excluded = flush.module_name if flush is not None else FLUSH_MODULE
    ops, source = op_events(profile)
    ops = [o for o in ops if o.module != excluded]
    windows = step_spans(profile, STEP_NAME)
    if len(windows) != calls:
        raise DeviceTimeError(
            f"The device timer recorded {calls} calls but the trace in {folder} holds {len(windows)} "
            f"'{STEP_NAME}' annotations; the profiler lost events. Use profile.timer=wall."
        )
    per_call = [_ops_in(ops, w) for w in windows]
    for i, found in enumerate(per_call):
        if not found:
            raise DeviceTimeError(
                f"Call {i} ran no XLA op on the device ({source}, trace in {folder}): nothing the device "
                "timer can measure ran. A plain Python or NumPy callable does no device work; jit it, or "
                "use profile.timer=wall."
            )
    spans = [(max(o.end for o in f) - min(o.start for o in f)) * _NS for f in per_call]
    meta = {
        "timer": "device",
        "source": source,
        "lines": sorted({f"{o.plane} {o.line}" for f in per_call for o in f}),
        "calls": calls,
        "modules": sorted({o.module for f in per_call for o in f}),
        "excluded_module": excluded,
        "flushed": flush is not None,
        "busy_mean_s": sum((o.end - o.start) * _NS for f in per_call for o in f) / calls,
        "kernels": _top([(o.op, o.module, (o.end - o.start) * _NS) for f in per_call for o in f], calls),
    }
    return spans, meta


def _load_profile(folder: Path) -> Any:
    import jax

    found = sorted(folder.glob("plugins/profile/*/*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise DeviceTimeError(f"jax.profiler wrote no .xplane.pb trace under {folder}; use profile.timer=wall.")
    return jax.profiler.ProfileData.from_file(str(found[-1]))


def _ops_in(ops: Sequence[OpEvent], window: Span) -> list[OpEvent]:
    """The ops that started inside ``window`` (a call blocks, so its ops cannot start before)."""
    return [o for o in ops if window.start <= o.start <= window.end]


def _top(entries: Sequence[tuple[str, str, float]], calls: int) -> list[dict[str, Any]]:
    """Per op (or kernel): executions per call, mean seconds per execution, share of the total."""
    totals: dict[tuple[str, str], list[float]] = {}
    for op, module, seconds in entries:
        slot = totals.setdefault((op, module), [0, 0.0])
        slot[0] += 1
        slot[1] += seconds
    grand = sum(t for _, t in totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP_KERNELS]
    return [{"op": op, "module": module, "per_call": n / calls, "mean_s": t / n, "share": t / grand}
            for (op, module), (n, t) in ranked]


def _cupti_extension() -> Any:
    """The mosaic GPU extension that exposes CUPTI, or a ConfigError saying what is missing."""
    try:
        from jax.experimental.mosaic.gpu import profiler as mosaic_profiler
    except Exception as e:  # noqa: BLE001  (any import failure means: no CUPTI timer here)
        raise ConfigError(
            "profile.timer=cupti needs jax.experimental.mosaic.gpu.profiler, which failed to import "
            f"({type(e).__name__}: {e}). Install JAX with CUDA (pip install 'jax[cuda12]') on an NVIDIA "
            "machine, or use profile.timer=device."
        ) from e
    import jax

    try:
        gpus = jax.devices("cuda")
    except RuntimeError:
        gpus = []
    if not gpus:
        raise ConfigError(
            "profile.timer=cupti needs an NVIDIA GPU, but JAX sees none (devices: "
            f"{[str(d) for d in jax.devices()]}). Use profile.timer=device, which reads the same "
            "device spans from a jax.profiler trace on any backend, or profile.timer=wall."
        )
    lib = getattr(mosaic_profiler, "mosaic_gpu_lib", None)
    ext = getattr(lib, "_mosaic_gpu_ext", None)
    if ext is None or not hasattr(ext, "_cupti_init"):
        raise ConfigError(
            "profile.timer=cupti needs jaxlib's Mosaic GPU extension (jax-cuda12-plugin with CUPTI), "
            "which is missing from this installation; reinstall 'jax[cuda12]' or use profile.timer=device."
        )
    return ext


def cupti_kernel_times(ext: Any, call: Callable[[], Any], block: Callable[[Any], Any],
                       *, finalize: bool = False) -> tuple[float, list[tuple[str, float]]]:
    """One call under CUPTI: its wall time (s) and each kernel's ``(name, seconds)``.

    ``ext`` is the Mosaic GPU extension (``_cupti_extension()``); this is the one place that
    calls its private CUPTI entry points, as ``mosaic.gpu.profiler.Cupti.measure`` does.
    """
    ext._cupti_init()
    try:
        t0 = time.perf_counter_ns()
        block(call())
        wall = (time.perf_counter_ns() - t0) * _NS
    finally:
        timings = ext._cupti_get_timings(finalize)
    return wall, [(str(name), float(ms) * 1e-3) for name, ms in (timings or [])]


def _cupti_calls(ext: Any, call: Callable[[], Any], block: Callable[[Any], Any], calls: int,
                 flush: CacheFlusher | None) -> tuple[list[float], list[list[tuple[str, float]]]]:
    walls, kernels = [], []
    for i in range(calls):
        if flush is not None:
            flush()  # outside the CUPTI window: its kernel is never counted
        wall, found = cupti_kernel_times(ext, call, block, finalize=i == calls - 1)
        if not found:
            raise DeviceTimeError(
                f"Call {i} launched no GPU kernel under CUPTI: nothing ran on the device. A plain "
                "Python callable does no device work; jit it, or use profile.timer=wall."
            )
        walls.append(wall)
        kernels.append(found)
    return walls, kernels


def _cupti_meta(kernels: Sequence[Sequence[tuple[str, float]]], flush: CacheFlusher | None) -> dict[str, Any]:
    return {
        "timer": "cupti",
        "source": "CUPTI kernel activity (sum of kernel durations per call)",
        "calls": len(kernels),
        "excluded_module": f"{flush.module_name} (run outside the CUPTI window)" if flush else None,
        "flushed": flush is not None,
        "kernels": _top([(name, "", s) for k in kernels for name, s in k], len(kernels)),
    }
