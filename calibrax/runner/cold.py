"""Cold compile time: a case's trace, lower and compile stages timed in a fresh process.

With ``profile.cold_compile=true`` the runner starts ``python -m calibrax.runner.cold`` once
per finished case. That process has JAX's persistent compilation cache switched off
(``JAX_ENABLE_COMPILATION_CACHE=false``, no ``JAX_COMPILATION_CACHE_DIR``), builds the case's
Workload, clears JAX's in-memory caches (the benchmark's setup may have called the function
already), and times the stages once. The compile includes what a fresh process pays the
first time (backend and code-generator start-up), which is what a user waits for on a cold
start. The result is the measure ``cold_compile_time`` (s, lower is better), with the other
two stages in its meta.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from calibrax.core.models import CaseResult, CaseStatus, Direction, MeasureResult, measure_for
from calibrax.runner._reaper import Guard, die_with_parent

__all__ = ["COLD_COMPILE", "cold_compile", "with_cold_compile"]

COLD_COMPILE = "cold_compile_time"
"""The measure's name."""
_CACHE_VARS = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
               "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")


def cold_compile(benchmark: str, source: str | None, params: Mapping[str, Any], *, platform: str | None,
                 sys_path: Sequence[str], timeout: float) -> dict[str, Any]:
    """Time one case's stages in a fresh process without the persistent cache.

    Returns:
        ``{"trace_time", "lower_time", "compile_time", "pid", "cache_enabled"}`` on success,
        or ``{"error": reason}``.
    """
    env = {k: v for k, v in os.environ.items() if k not in _CACHE_VARS}
    env["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    job = {"benchmark": benchmark, "source": source, "params": dict(params), "platform": platform,
           "sys_path": list(sys_path)}
    with tempfile.TemporaryDirectory(prefix="calibrax-cold-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "output.txt"
        guard = Guard()  # the fresh process and what it starts die with calibrax-run, or here
        # Output goes to a file, not a pipe: a child the benchmark starts may hold the pipe open
        # long after the fresh process has exited, and the wait is for the process itself.
        try:
            with log.open("w", encoding="utf-8") as sink:
                proc = subprocess.Popen([sys.executable, "-m", "calibrax.runner.cold", str(out)],
                                        stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                        env=env, process_group=guard.pgid, preexec_fn=die_with_parent())
                try:
                    _send(proc, json.dumps(job))
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    return {"error": f"the fresh process did not finish within profile.case_timeout={timeout} s"}
                finally:
                    guard.kill_group()
                    proc.wait()
        finally:
            guard.close()
        if not out.exists():
            tail = log.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            return {"error": f"the fresh process exited with code {proc.returncode}: {tail}"}
        return dict(json.loads(out.read_text(encoding="utf-8")))


def _send(proc: subprocess.Popen[str], text: str) -> None:
    """Write the job to the fresh process's stdin; one that died before reading it is judged by
    its exit code and output."""
    assert proc.stdin is not None
    try:
        proc.stdin.write(text)
        proc.stdin.close()
    except BrokenPipeError:
        pass


def with_cold_compile(case: CaseResult, source: str | None, *, platform: str | None, sys_path: Sequence[str],
                      timeout: float) -> CaseResult:
    """The case with ``cold_compile_time`` added, or the reason in ``unavailable``.

    A case that did not end ok is returned unchanged.
    """
    if case.status is not CaseStatus.OK:
        return case
    found = cold_compile(case.benchmark, source, case.params, platform=platform, sys_path=sys_path, timeout=timeout)
    if "error" in found:
        return replace(case, unavailable={**case.unavailable, COLD_COMPILE: str(found["error"])})
    meta: dict[str, Any] = {k: found[k] for k in ("trace_time", "lower_time", "pid", "cache_enabled") if k in found}
    meta["process"] = "fresh"
    result = MeasureResult(measure_for(COLD_COMPILE, "s", Direction.LOWER), (float(found["compile_time"]),), meta=meta)
    return replace(case, measures={**case.measures, COLD_COMPILE: result})


def _measure(job: Mapping[str, Any]) -> dict[str, Any]:
    for entry in reversed(job.get("sys_path") or []):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    from calibrax.profiling import apply_platform

    apply_platform(job.get("platform"))
    import jax

    from calibrax.profiling import time_stages
    from calibrax.runner.execute import load_benchmark

    config: Any = jax.config
    config.update("jax_enable_compilation_cache", False)
    workload = load_benchmark(job["benchmark"], job.get("source")).setup(**job["params"])
    if not workload.is_jitted:
        return {"error": "the workload is not a jax.jit function, so it has no compile stage to time"}
    jax.clear_caches()  # type: ignore[no-untyped-call]
    stages = time_stages(workload)
    return {**stages, "pid": os.getpid(), "cache_enabled": bool(config.jax_enable_compilation_cache)}


def main(argv: list[str]) -> int:
    """``python -m calibrax.runner.cold OUT``: read the job on stdin, write the result to OUT."""
    try:
        result = _measure(json.load(sys.stdin))
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    Path(argv[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
