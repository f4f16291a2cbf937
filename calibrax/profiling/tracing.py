"""A ``jax.profiler`` trace of a few untimed calls of each case, and a per-op summary of it.

Opt-in: ``profile.profilers=[timing,tracing]`` selects it; ``all`` does not. Once the timed
rounds are over, ``profile.tracing.calls`` untimed calls of the workload are recorded with
``jax.profiler.start_trace(folder, create_perfetto_trace=True)``, where the folder is
``<profile.tracing.dir>/<run-id>/<benchmark>/<case>/``. JAX writes ``plugins/profile/<time>/`` there, holding
``<host>.trace.json.gz`` (Chrome trace format), ``perfetto_trace.json.gz`` (open it at
ui.perfetto.dev) and ``<host>.xplane.pb`` (for TensorBoard's profile plugin).

The summary reads the Chrome-trace events. An XLA op's execution is a complete event
(``"ph": "X"``) whose ``args`` hold ``hlo_op`` and ``hlo_module``; Python frames and runtime
events (``PjitFunction(f)``, ``$profiler.py:151 start_trace``, ``ThunkExecutor::Execute``)
hold no ``hlo_op`` and are left out. On a GPU the ops' kernels run in ``/device:...``
processes and only those count (device time); on a CPU the ops run as thunks in host threads
and those count. The measure ``traced_op_time`` (s, info) is the ops' total time per traced
call.
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from calibrax.core.models import Direction, MeasureResult, measure_for
from calibrax.core.workload import Workload
from calibrax.profiling.base import BaseProfiler, ProfileContext, ProfileOutput, register_profiler

__all__ = ["TOP_OPS", "TracingProfiler", "case_trace_dir", "summarize_trace"]

TOP_OPS = 10
"""How many ops the summary lists, by total time."""


def case_trace_dir(root: str | Path, benchmark: str, params: Mapping[str, Any]) -> Path:
    """The folder of one case's trace: ``root/<benchmark>/<params slug>-<hash>``.

    Example:
        >>> case_trace_dir("traces/r1", "matmul", {"n": 256, "dtype": "float32"}).parent
        PosixPath('traces/r1/matmul')
    """
    text = "_".join(f"{k}={v}" for k, v in params.items()) or "case"
    slug = re.sub(r"[^A-Za-z0-9=._-]+", "-", text)[:80]
    digest = zlib.crc32(json.dumps(dict(params), sort_keys=True, default=str).encode())
    return Path(root) / re.sub(r"[^A-Za-z0-9._-]+", "-", benchmark) / f"{slug}-{digest:08x}"


def _events(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    events = data.get("traceEvents", []) if isinstance(data, dict) else data
    return [e for e in events if isinstance(e, dict)]


def summarize_trace(path: str | Path, *, top: int = TOP_OPS) -> dict[str, Any]:
    """The XLA ops of a Chrome-format trace (``.json`` or ``.json.gz``), by total time.

    Returns:
        ``scope`` (``device`` or ``host``: where the counted op events ran), ``total_us``
        (time of every op event), ``events`` and ``distinct_ops`` (counts), ``modules`` (the
        HLO modules seen) and ``ops``: the ``top`` ops, each with ``op``, ``module``,
        ``count``, ``total_us``, ``mean_us`` and ``share`` (of ``total_us``).

    Example:
        >>> import tempfile, json, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.json"
        >>> _ = p.write_text(json.dumps({"traceEvents": [
        ...     {"ph": "X", "pid": 1, "name": "dot.1", "dur": 30.0, "args": {"hlo_op": "dot.1", "hlo_module": "jit_f"}},
        ...     {"ph": "X", "pid": 1, "name": "PjitFunction(f)", "dur": 50.0}]}))
        >>> [(o["op"], o["count"], o["total_us"]) for o in summarize_trace(p)["ops"]]
        [('dot.1', 1, 30.0)]
    """
    events = _events(Path(path))
    names = {e.get("pid"): str((e.get("args") or {}).get("name", "")) for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    ops = [e for e in events if e.get("ph") == "X" and "hlo_op" in (e.get("args") or {})]
    on_device = [e for e in ops if names.get(e.get("pid"), "").startswith("/device:")]
    scope = "device" if on_device else "host"
    counted = on_device or ops
    totals: dict[tuple[str, str], list[float]] = {}
    for e in counted:
        args = e["args"]
        key = (str(args["hlo_op"]), str(args.get("hlo_module", "")))
        slot = totals.setdefault(key, [0, 0.0])
        slot[0] += 1
        slot[1] += float(e.get("dur") or 0.0)
    total = sum(t for _, t in totals.values())
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))
    return {
        "scope": scope,
        "total_us": total,
        "events": len(counted),
        "distinct_ops": len(totals),
        "modules": sorted({m for _, m in totals if m}),
        "ops": [
            {"op": op, "module": module, "count": int(n), "total_us": t, "mean_us": t / n,
             "share": t / total if total else 0.0}
            for (op, module), (n, t) in ranked[:top]
        ],
    }


def _newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


@register_profiler
class TracingProfiler(BaseProfiler):
    """A Perfetto trace of ``trace_calls`` untimed calls per case, with its top XLA ops."""

    name = "tracing"
    produces = ("traced_op_time",)
    in_all = False  # writes files and adds untimed calls: asked for by name only

    def __init__(self, context: ProfileContext) -> None:
        super().__init__(context)
        self._workload: Workload | None = None

    def start(self, workload: Workload) -> None:
        self._workload = workload

    def collect(self, measures: Mapping[str, MeasureResult]) -> ProfileOutput:
        import jax

        assert self._workload is not None
        opts = self.context.options
        root = opts.trace_dir or tempfile.mkdtemp(prefix="calibrax-traces-")
        folder = case_trace_dir(root, self.context.benchmark, self.context.params).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        calls = max(1, int(opts.trace_calls))
        jax.profiler.start_trace(str(folder), create_perfetto_trace=True)
        try:
            for _ in range(calls):
                jax.block_until_ready(self._workload.call())
        finally:
            jax.profiler.stop_trace()
        chrome = _newest(folder, "plugins/profile/*/*.trace.json.gz")
        perfetto = _newest(folder, "plugins/profile/*/perfetto_trace.json.gz")
        parsed = chrome or perfetto
        if parsed is None:
            return ProfileOutput(meta={"log_dir": str(folder), "error": "jax.profiler wrote no trace file"})
        summary = {**summarize_trace(parsed), "calls": calls}
        path = perfetto or parsed
        meta = {"log_dir": str(folder), "chrome_trace": str(parsed), "calls": calls}
        artifact = {"path": str(path), "kind": "perfetto_trace", "summary": summary}
        op_time = MeasureResult(measure_for("traced_op_time", "s", Direction.INFO), (summary["total_us"] * 1e-6 / calls,),
                                meta={"scope": summary["scope"], "calls": calls, "trace": str(path)})
        return ProfileOutput({"traced_op_time": op_time}, meta=meta, artifacts={"trace": artifact})
