"""Google Benchmark JSON (``--benchmark_format=json`` or ``--benchmark_out``) read into a calibrax run.

One file is one run. A benchmark's ``run_name`` splits at ``/`` into the calibrax benchmark (the
first part) and its params (``n:64`` gives ``n=64``; an unnamed argument gives ``arg0``,
``arg1``...). Iteration rows are the samples (``real_time`` per iteration, in seconds); when the
file holds only aggregates (``--benchmark_report_aggregates_only``) the case keeps their mean,
median and standard deviation with their count, and no samples. ``error_occurred`` rows are
stored as ``error`` cases and ``skipped`` ones as ``skipped``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from calibrax.core import CaseResult, CaseStatus, HardwareInfo, RunInfo
from calibrax.interop._records import (
    ORIGIN_KEY,
    ImportedRun,
    ImportOrigin,
    InteropError,
    import_run_id,
    iso_utc,
    run_status,
    time_result,
)

__all__ = ["is_google_benchmark", "read_google_benchmark", "split_run_name"]

TOOL = "google-benchmark"
_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_ROW_KEYS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
             "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
             "aggregate_unit", "error_occurred", "error_message", "skipped", "skip_message", "label"}


def is_google_benchmark(data: Any) -> bool:
    """True when parsed JSON has Google Benchmark's top-level keys.

    Example:
        >>> is_google_benchmark({"context": {"library_version": "1.9.5"}, "benchmarks": []})
        True
    """
    return isinstance(data, dict) and isinstance(data.get("context"), dict) and "benchmarks" in data


def split_run_name(run_name: str) -> tuple[str, dict[str, Any]]:
    """The benchmark and params of a Google Benchmark run name.

    Example:
        >>> split_run_name("BM_matmul/n:64/512/threads:2")
        ('BM_matmul', {'n': 64, 'arg0': 512, 'threads': 2})
    """
    name, *parts = run_name.split("/")
    params: dict[str, Any] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if not sep:
            key, value = f"arg{sum(k.startswith('arg') for k in params)}", part
        params[key] = _value(value)
    return name, params


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def read_google_benchmark(path: Path) -> ImportedRun:
    """Read one Google Benchmark JSON file as a run.

    Raises:
        InteropError: the file is not JSON, not Google Benchmark's shape, or a row has an unknown
            time unit.

    Example:
        imported = read_google_benchmark(Path("out.json"))
        [c.benchmark for c in imported.cases]
    """
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InteropError(f"{path} is not JSON ({exc}); pass a file written with --benchmark_out.") from exc
    if not is_google_benchmark(data):
        raise InteropError(f"{path} is not Google Benchmark JSON: it lacks 'context' and 'benchmarks' at the top level.")
    context = data["context"]
    version = str(context.get("library_version", ""))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in data["benchmarks"]:
        groups.setdefault(str(row.get("run_name") or row.get("name")), []).append(row)
    source = f"{TOOL} {version}".strip()
    cases = tuple(_case(run_name, rows, source, path) for run_name, rows in groups.items())
    ids = {"executable": str(context.get("executable", "")), "host_name": str(context.get("host_name", "")),
           "date": str(context.get("date", ""))}
    origin = ImportOrigin(TOOL, str(context.get("json_schema_version", "")), str(path.absolute()), ids)
    run = RunInfo(id=import_run_id(TOOL, raw), started_at=iso_utc(context.get("date") or 0),
                  status=run_status(cases), hardware=_hardware(context),
                  config={ORIGIN_KEY: origin.to_dict(), "library_version": version})
    return ImportedRun(run, cases, origin)


def _seconds(row: Mapping[str, Any], key: str, path: Path) -> float:
    unit = str(row.get("time_unit", "ns"))
    if unit not in _SECONDS:
        raise InteropError(f"{path}: {row.get('name')!r} has time_unit {unit!r}; expected one of ns, us, ms, s.")
    return float(row[key]) * _SECONDS[unit]


def _case(run_name: str, rows: Sequence[Mapping[str, Any]], source: str, path: Path) -> CaseResult:
    name, params = split_run_name(run_name)
    first = rows[0]
    meta = {"threads": first.get("threads"), "repetitions": first.get("repetitions"), "run_name": run_name}
    failed = [r for r in rows if r.get("error_occurred")]
    if failed:
        return CaseResult(name, params, CaseStatus.ERROR, error=str(failed[0].get("error_message") or "error"),
                          meta=meta)
    skipped = [r for r in rows if r.get("skipped")]
    if skipped:
        return CaseResult(name, params, CaseStatus.SKIPPED, error=str(skipped[0].get("skip_message") or "skipped"),
                          meta=meta)
    iterations = [r for r in rows if r.get("run_type", "iteration") == "iteration"]
    counters = {k: v for k, v in first.items() if k not in _ROW_KEYS and isinstance(v, (int, float))}
    if iterations:
        samples = [_seconds(r, "real_time", path) for r in iterations]
        extra = {"iterations": [r.get("iterations") for r in iterations],
                 "cpu_time": [_seconds(r, "cpu_time", path) for r in iterations]}
        result = time_result(samples, source, meta={**meta, **extra, "counters": counters})
    else:
        agg = {str(r.get("aggregate_name")): r for r in rows if r.get("aggregate_unit", "time") == "time"}
        figures = {k: _seconds(agg[k], "real_time", path) for k in ("mean", "median", "stddev") if k in agg}
        summary = {"n": first.get("repetitions"), "median": figures.get("median"), "mean": figures.get("mean"),
                   "std": figures.get("stddev")}
        result = time_result(None, source, summary=summary, meta={**meta, "counters": counters})
    return CaseResult(name, params, CaseStatus.OK, {"time": result}, meta=meta)


def _hardware(context: Mapping[str, Any]) -> HardwareInfo:
    extra = {"host_name": context.get("host_name"), "mhz_per_cpu": context.get("mhz_per_cpu"),
             "cpu_scaling_enabled": context.get("cpu_scaling_enabled"), "caches": context.get("caches"),
             "source": TOOL}
    return HardwareInfo(backend="cpu", device_kind="cpu", device_count=1, cpu_model="",
                        cpu_count=int(context.get("num_cpus") or 0), memory_bytes=0,
                        platform=str(context.get("host_name") or ""), python="",
                        extra={k: v for k, v in extra.items() if v is not None})
