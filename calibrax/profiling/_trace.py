"""Reading XLA op events and step annotations out of a ``jax.profiler`` XSpace.

``jax.profiler.ProfileData`` (``from_file(<host>.xplane.pb)``) holds planes of lines of events;
each event has ``name``, ``start_ns``, ``duration_ns`` and ``stats`` (name, value pairs). What
is where (checked on jax 0.10):

- CPU: the ``/host:CPU`` plane; XLA ops run as thunks on ``tf_XLAPjRtCpuClient/...`` threads
  (small ones may run on the calling thread) and carry the stats ``hlo_op`` and ``hlo_module``.
- GPU: ``/device:GPU:<n>`` planes; kernel events on the stream lines carry ``hlo_op`` and
  ``hlo_module``; the derived ``XLA Ops`` line (the one tokamax's XProf timer reads) holds one
  event per op, inside the ``XLA Modules`` line's event of its module (``jit_f(<id>)``).
- ``jax.profiler.StepTraceAnnotation(name, step_num=i)`` is an event on the calling thread's
  line of the host plane with the stat ``step_num``.

These functions take any object with that shape, so tests can feed hand-made planes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["OpEvent", "Span", "op_events", "step_spans"]

_DERIVED_LINES = ("XLA Modules", "XLA Ops", "Steps", "Framework Name Scope", "Framework Ops",
                  "Source code", "XLA TraceMe", "TensorFlow Name Scope", "TensorFlow Ops")


@dataclass(frozen=True)
class OpEvent:
    """One execution of an XLA op (a kernel on a device, a thunk on a host thread), in ns."""

    op: str
    module: str
    start: float
    end: float
    plane: str
    line: str


@dataclass(frozen=True)
class Span:
    """One step annotation: its step number and extent, in ns."""

    step: int
    start: float
    end: float


def _stats(event: Any) -> dict[str, Any]:
    try:
        return dict(event.stats)
    except (TypeError, ValueError):
        return {}


def step_spans(profile: Any, name: str) -> list[Span]:
    """Every ``StepTraceAnnotation`` called ``name`` on a host plane, by step number."""
    spans = []
    for plane in profile.planes:
        if not plane.name.startswith("/host:"):
            continue
        for line in plane.lines:
            for e in line.events:
                if e.name != name:
                    continue
                step = _stats(e).get("step_num")
                if step is not None:
                    spans.append(Span(int(step), float(e.start_ns), float(e.start_ns + e.duration_ns)))
    return sorted(spans, key=lambda s: s.step)


def _module_name(text: str) -> str:
    """``jit_f(12)`` -> ``jit_f`` (the ``XLA Modules`` line appends the program id)."""
    return re.sub(r"\(\d+\)$", "", text.strip())


def _stat_ops(plane: Any, lines: Iterable[Any]) -> list[OpEvent]:
    out = []
    for line in lines:
        for e in line.events:
            stats = _stats(e)
            if "hlo_module" not in stats:
                continue
            start = float(e.start_ns)
            out.append(OpEvent(str(stats.get("hlo_op", e.name)), _module_name(str(stats["hlo_module"])),
                               start, start + float(e.duration_ns), plane.name, line.name))
    return out


def _xla_ops_line(plane: Any) -> list[OpEvent]:
    """Ops of the derived ``XLA Ops`` line, each given the module whose event contains it."""
    lines = {line.name: line for line in plane.lines}
    if "XLA Ops" not in lines or "XLA Modules" not in lines:
        return []
    modules = sorted((float(m.start_ns), float(m.start_ns + m.duration_ns), _module_name(m.name))
                     for m in lines["XLA Modules"].events)
    out = []
    for e in lines["XLA Ops"].events:
        start, end = float(e.start_ns), float(e.start_ns + e.duration_ns)
        owner = next((name for s, t, name in modules if s <= start and end <= t), "")
        out.append(OpEvent(e.name, owner, start, end, plane.name, "XLA Ops"))
    return out


def op_events(profile: Any) -> tuple[list[OpEvent], str]:
    """The XLA op events of a profile and where they came from.

    Device planes (``/device:...``) win when they hold any op: their kernel lines with
    ``hlo_module`` stats, else their ``XLA Ops`` line. Otherwise the host planes' events with
    ``hlo_module`` stats (XLA:CPU thunks). Returns ``(ops, source)`` where source is
    ``"device lines"`` or ``"host XLA threads"``; ops is empty when no XLA op ran.
    """
    device: list[OpEvent] = []
    for plane in profile.planes:
        if not plane.name.startswith("/device:"):
            continue
        kernel_lines = [line for line in plane.lines if line.name not in _DERIVED_LINES]
        device.extend(_stat_ops(plane, kernel_lines) or _xla_ops_line(plane))
    if device:
        return device, "device lines"
    host = []
    for plane in profile.planes:
        if plane.name.startswith("/host:"):
            host.extend(_stat_ops(plane, plane.lines))
    return host, "host XLA threads"
