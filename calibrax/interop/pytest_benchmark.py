"""pytest-benchmark JSON: ``--benchmark-json`` output and the files ``--benchmark-autosave`` keeps
under ``.benchmarks/<machine-id>/``, read into calibrax runs and written back from them.

One file is one run. A benchmark's ``fullname`` without its ``[...]`` suffix is the calibrax
benchmark and its ``params`` the case's params; ``stats.data`` (seconds per call, one per round)
are the samples, and a file saved without ``--benchmark-save-data`` gives summaries only.
pytest-benchmark writes nothing for a test that failed or was skipped, so neither appears.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from calibrax.core import CaseResult, CaseStatus, GitInfo, HardwareInfo, RunInfo, RunRecord
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

__all__ = ["export_pytest_benchmark", "is_pytest_benchmark", "read_pytest_benchmark"]

TOOL = "pytest-benchmark"
_WRITTEN_VERSION = "5.3.1"  # the pytest-benchmark release whose file layout the exporter writes
_SUFFIX = re.compile(r"\[[^\[\]]*\]$")


def is_pytest_benchmark(data: Any) -> bool:
    """True when parsed JSON has pytest-benchmark's top-level keys.

    Example:
        >>> is_pytest_benchmark({"machine_info": {}, "benchmarks": []})
        True
    """
    return isinstance(data, dict) and "machine_info" in data and "benchmarks" in data


def read_pytest_benchmark(path: Path) -> ImportedRun:
    """Read one pytest-benchmark JSON file as a run.

    Raises:
        InteropError: the file is not JSON or not pytest-benchmark's shape.

    Example:
        imported = read_pytest_benchmark(Path(".benchmarks/Linux-CPython-3.11-64bit/0001_abc_20261207.json"))
        imported.cases[0].measures["time"].summary.median
    """
    raw = path.read_bytes()
    data = _load(path, raw)
    version = str(data.get("version", ""))
    source = f"{TOOL} {version}".strip()
    cases = tuple(_case(b, source, path) for b in data["benchmarks"])
    commit = data.get("commit_info") or {}
    origin = ImportOrigin(TOOL, version, str(path.absolute()),
                          {"commit": str(commit.get("id", "")), "machine_id": path.parent.name, "file": path.name})
    run = RunInfo(
        id=import_run_id(TOOL, raw),
        started_at=iso_utc(data.get("datetime") or commit.get("time") or 0),
        status=run_status(cases),
        git=GitInfo(commit.get("id"), commit.get("branch"), commit.get("dirty")),
        hardware=_hardware(data.get("machine_info") or {}),
        config={ORIGIN_KEY: origin.to_dict(), "project": commit.get("project")},
    )
    return ImportedRun(run, cases, origin)


def _load(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InteropError(f"{path} is not JSON ({exc}); pass a pytest-benchmark --benchmark-json file.") from exc
    if not is_pytest_benchmark(data):
        raise InteropError(f"{path} is not pytest-benchmark JSON: it lacks 'machine_info' and 'benchmarks' "
                           "at the top level.")
    return dict(data)


def _case(bench: Mapping[str, Any], source: str, path: Path) -> CaseResult:
    fullname = str(bench.get("fullname") or bench.get("name") or "")
    if not fullname or not isinstance(bench.get("stats"), Mapping):
        raise InteropError(f"{path}: a benchmark entry lacks 'fullname' or 'stats'; is the file complete?")
    params = dict(bench.get("params") or {})
    name = _SUFFIX.sub("", fullname) if params else fullname
    stats = bench["stats"]
    meta = {"rounds": stats.get("rounds"), "iterations": stats.get("iterations"), "group": bench.get("group"),
            "extra_info": dict(bench.get("extra_info") or {}), "options": dict(bench.get("options") or {})}
    summary = {"n": stats.get("rounds"), "median": stats.get("median"), "mean": stats.get("mean"),
               "min": stats.get("min"), "max": stats.get("max"), "std": stats.get("stddev"), "iqr": stats.get("iqr")}
    result = time_result(stats.get("data"), source, summary=summary, meta=meta)
    return CaseResult(name, params, CaseStatus.OK, {"time": result}, meta={"fullname": fullname})


def _hardware(info: Mapping[str, Any]) -> HardwareInfo:
    cpu = info.get("cpu") or {}
    platform = "-".join(str(info[k]) for k in ("system", "release", "machine") if info.get(k))
    extra = {"node": info.get("node"), "python_implementation": info.get("python_implementation"),
             "source": TOOL}
    return HardwareInfo(
        backend="cpu",
        device_kind="cpu",
        device_count=1,
        cpu_model=str(cpu.get("brand_raw") or cpu.get("brand") or info.get("processor") or ""),
        cpu_count=int(cpu.get("count") or 0),
        memory_bytes=0,
        platform=platform,
        python=str(info.get("python_version") or ""),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def export_pytest_benchmark(record: RunRecord) -> dict[str, Any]:
    """A stored run as pytest-benchmark JSON, which ``pytest-benchmark compare`` loads.

    Every ok case with a ``time`` measure becomes one benchmark; its samples become ``stats.data``
    (a case stored from a summary alone keeps the figures it has, NaN for the others).

    Raises:
        InteropError: the run has no ok case with a time measure.

    Example:
        data = export_pytest_benchmark(store.load_run("latest"))
        Path("run.json").write_text(json.dumps(data))
    """
    benches = [_benchmark(c) for c in record.cases if c.status is CaseStatus.OK and "time" in c.measures]
    if not benches:
        raise InteropError(f"Run {record.run.id} has no ok case with a 'time' measure; pytest-benchmark "
                           "files hold times only.")
    hw, git = record.run.hardware, record.run.git
    machine = {"node": str((hw.extra if hw else {}).get("node", "")), "processor": hw.cpu_model if hw else "",
               "machine": "", "python_implementation": str((hw.extra if hw else {}).get("python_implementation", "")),
               "python_version": hw.python if hw else "",
               "release": "", "system": hw.platform if hw else "",
               "cpu": {"brand_raw": hw.cpu_model if hw else "", "count": hw.cpu_count if hw else 0}}
    commit = {"id": git.commit or "", "time": record.run.started_at, "author_time": record.run.started_at,
              "dirty": bool(git.dirty), "project": "calibrax", "branch": git.branch or ""}
    return {"machine_info": machine, "commit_info": commit, "benchmarks": benches,
            "datetime": record.run.started_at, "version": _WRITTEN_VERSION}


def _benchmark(case: CaseResult) -> dict[str, Any]:
    result = case.measures["time"]
    params = dict(case.params)
    suffix = f"[{'-'.join(str(v) for v in params.values())}]" if params else ""
    fullname = str(case.meta.get("fullname") or f"{case.benchmark}{suffix}")
    return {"group": None, "name": fullname.split("::")[-1], "fullname": fullname, "params": params or None,
            "param": suffix[1:-1] or None, "extra_info": {}, "options": {}, "stats": _stats(result.samples, result)}


def _stats(samples: tuple[float, ...], result: Any) -> dict[str, Any]:
    s = result.summary
    figures: dict[str, Any]
    if samples:
        x = np.asarray(samples, dtype=float)
        q1, med, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
        iqr, mean, std = q3 - q1, float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0
        low = float(x[x >= q1 - 1.5 * iqr].min())
        high = float(x[x <= q3 + 1.5 * iqr].max())
        iqr_out = int(((x < q1 - 1.5 * iqr) | (x > q3 + 1.5 * iqr)).sum())
        std_out = int(((x < mean - std) | (x > mean + std)).sum())
        figures = {"min": float(x.min()), "max": float(x.max()), "mean": mean, "stddev": std, "rounds": int(x.size),
                   "median": med, "iqr": iqr, "q1": q1, "q3": q3, "iqr_outliers": iqr_out,
                   "stddev_outliers": std_out, "outliers": f"{std_out};{iqr_out}", "ld15iqr": low, "hd15iqr": high,
                   "total": float(x.sum()), "data": list(samples)}
    else:
        nan = math.nan
        figures = {"min": s.min, "max": s.max, "mean": s.mean, "stddev": s.std, "rounds": s.n, "median": s.median,
                   "iqr": s.iqr, "q1": nan, "q3": nan, "iqr_outliers": 0, "stddev_outliers": 0, "outliers": "0;0",
                   "ld15iqr": s.min, "hd15iqr": s.max, "total": s.mean * s.n}
    figures["ops"] = 1.0 / figures["mean"] if figures["mean"] else 0.0
    figures["iterations"] = int(result.meta.get("iterations") or 1)
    return figures
