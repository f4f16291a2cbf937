"""asv (airspeed velocity) results folders read into calibrax runs, and runs written back as asv results.

An asv ``results/`` folder holds ``benchmarks.json`` (each benchmark's type, unit and params) and
one folder per machine with its ``machine.json`` and one file per commit and environment. Each
such file is one calibrax run: its commit and the commit's date, the machine as a hardware
fingerprint, one case per benchmark and point of its params grid (asv lists them in Cartesian
order, the last param varying fastest). ``samples`` (``asv run --record-samples``) become the
samples; without them the case keeps asv's median and interquartile range with their count
(asv's 99% interval and quartiles stay in the measure's meta). A ``null`` result is a failed benchmark (stored as ``error``), ``NaN`` a skipped one.
Version 1 files (``results`` as name -> value or ``{"result", "params", "stats"}``) are read too.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from calibrax.core import (
    CaseResult,
    CaseStatus,
    GitInfo,
    HardwareInfo,
    MeasureResult,
    RunInfo,
    RunRecord,
    measure_for,
)
from calibrax.core.models import Direction
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
from calibrax.statistics import median_ci, summarize

__all__ = ["export_asv", "is_asv_result", "read_asv"]

TOOL = "asv"
_COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b",
            "stats_q_25", "stats_q_75", "stats_number", "stats_repeat", "samples", "profile"]
_OTHER_MEASURES = {"peakmem": ("peak_rss", "B", Direction.LOWER), "mem": ("memory", "B", Direction.LOWER)}


def is_asv_result(data: Any) -> bool:
    """True when parsed JSON is one asv result file (a commit on one machine and environment).

    Example:
        >>> is_asv_result({"commit_hash": "abc", "results": {}, "version": 2})
        True
    """
    return isinstance(data, dict) and "commit_hash" in data and isinstance(data.get("results"), dict)


def read_asv(path: Path) -> list[ImportedRun]:
    """Read an asv results folder (or one result file beside its ``benchmarks.json``), oldest commit first.

    Raises:
        InteropError: no ``benchmarks.json``, a file that is not JSON or not asv's shape.

    Example:
        runs = read_asv(Path("results"))
        [r.run.git.commit for r in runs]
    """
    folder = path if path.is_dir() else path.parent.parent
    benchmarks = _json(folder / "benchmarks.json")
    files = [path] if path.is_file() else sorted(
        p for p in folder.glob("*/*.json") if p.name != "machine.json")
    runs = [_run(f, benchmarks) for f in files]
    if not runs:
        raise InteropError(f"{path} holds no asv result files (<machine>/<commit>-<env>.json); "
                           "pass the results folder that asv run wrote.")
    return sorted(runs, key=lambda r: (r.run.started_at, r.origin.source))


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InteropError(f"{path} is missing: an asv results folder has benchmarks.json at its top "
                           "(asv run writes it); pass the folder itself.")
    try:
        data = json.loads(path.read_bytes())
    except ValueError as exc:
        raise InteropError(f"{path} is not JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise InteropError(f"{path} is not an asv file: expected a JSON object.")
    return data


def _run(path: Path, benchmarks: Mapping[str, Any]) -> ImportedRun:
    raw = path.read_bytes()
    data = _json(path)
    if not is_asv_result(data):
        raise InteropError(f"{path} is not an asv result file: it lacks 'commit_hash' and 'results'.")
    machine_file = path.parent / "machine.json"
    machine = _json(machine_file) if machine_file.is_file() else {"machine": path.parent.name}
    version = str(data.get("version", 1))
    columns = list(data.get("result_columns") or _COLUMNS)
    cases: list[CaseResult] = []
    for name, row in data["results"].items():
        info = benchmarks.get(name) or {}
        fields = _fields(row, columns, version)
        cases.extend(_cases(name, info, fields, f"{TOOL} results v{version}"))
    ids = {"commit_hash": str(data["commit_hash"]), "env_name": str(data.get("env_name", "")),
           "machine": str(machine.get("machine", path.parent.name))}
    origin = ImportOrigin(TOOL, version, str(path.absolute()), ids)
    config = {ORIGIN_KEY: origin.to_dict(), "env_name": data.get("env_name"),
              "requirements": data.get("requirements") or {}, "env_vars": data.get("env_vars") or {}}
    run = RunInfo(id=import_run_id(TOOL, ids["machine"], raw), started_at=iso_utc(data.get("date") or 0),
                  status=run_status(cases), git=GitInfo(str(data["commit_hash"])),
                  hardware=_hardware(machine, str(data.get("python") or "")), config=config)
    return ImportedRun(run, tuple(cases), origin)


def _fields(row: Any, columns: Sequence[str], version: str) -> dict[str, Any]:
    """One benchmark's columns by name (v2 rows are lists; v1 values a number or a dict)."""
    if version != "1" and isinstance(row, list):
        return dict(zip(columns, row, strict=False))
    if isinstance(row, Mapping):
        stats = list(row.get("stats") or [])
        out: dict[str, Any] = {"result": row.get("result"), "params": row.get("params") or [],
                               "samples": row.get("samples")}
        for key, column in (("q_25", "stats_q_25"), ("q_75", "stats_q_75"), ("repeat", "stats_repeat"),
                            ("number", "stats_number")):
            out[column] = [s.get(key) if isinstance(s, Mapping) else None for s in stats] or None
        ci = [s.get("ci_99") if isinstance(s, Mapping) else None for s in stats]
        out["stats_ci_99_a"] = [c[0] if c else None for c in ci] or None
        out["stats_ci_99_b"] = [c[1] if c else None for c in ci] or None
        return out
    return {"result": [row], "params": []}


def _literal(text: Any) -> Any:
    try:
        return ast.literal_eval(str(text))
    except (ValueError, SyntaxError):
        return str(text)


def _at(values: Any, i: int) -> Any:
    return values[i] if isinstance(values, list) and i < len(values) else None


def _cases(name: str, info: Mapping[str, Any], fields: Mapping[str, Any], source: str) -> list[CaseResult]:
    results = fields.get("result")
    results = results if isinstance(results, list) else [results]
    grid = [list(p) for p in fields.get("params") or []]
    names = list(info.get("param_names") or [f"param{k + 1}" for k in range(len(grid))])
    points = list(itertools.product(*grid)) if grid else [()]
    started = iso_utc(fields["started_at"]) if fields.get("started_at") else ""
    kind = str(info.get("type") or name.rsplit(".", 1)[-1].split("_", 1)[0])
    out = []
    for i, point in enumerate(points):
        params = {k: _literal(v) for k, v in zip(names, point, strict=False)}
        value = _at(results, i)
        base = {"benchmark": name, "params": params, "started_at": started,
                "duration": float(fields.get("duration") or 0.0)}
        if value is None:
            out.append(CaseResult(status=CaseStatus.ERROR, error="asv recorded no result: the benchmark failed",
                                  **base))  # type: ignore[arg-type]
        elif isinstance(value, float) and math.isnan(value):
            out.append(CaseResult(status=CaseStatus.SKIPPED, error="asv skipped it (NaN result)",
                                  **base))  # type: ignore[arg-type]
        else:
            result = _measure(kind, str(info.get("unit") or ""), float(value), fields, i, source)
            out.append(CaseResult(status=CaseStatus.OK, measures={result.measure.name: result},
                                  **base))  # type: ignore[arg-type]
    return out


def _measure(kind: str, unit: str, value: float, fields: Mapping[str, Any], i: int, source: str) -> MeasureResult:
    samples = _at(fields.get("samples"), i)
    meta = {"number": _at(fields.get("stats_number"), i), "repeat": _at(fields.get("stats_repeat"), i),
            "asv_type": kind}
    if kind != "time":
        measure = measure_for(*_OTHER_MEASURES.get(kind, ("track", unit or "1", Direction.INFO)))
        values = tuple(float(v) for v in samples) if samples else (value,)
        return MeasureResult(measure, values, summarize(values), meta)
    if samples:
        return time_result(samples, source, meta=meta)
    q25, q75 = _at(fields.get("stats_q_25"), i), _at(fields.get("stats_q_75"), i)
    summary = {"n": _at(fields.get("stats_repeat"), i) or 1, "median": value,
               "iqr": q75 - q25 if q25 is not None and q75 is not None else None}
    ci_99 = [_at(fields.get("stats_ci_99_a"), i), _at(fields.get("stats_ci_99_b"), i)]
    # asv's interval is a 99% one: kept as asv gave it, not passed off as calibrax's 95% CI
    return time_result(None, source, summary=summary, meta={**meta, "ci_99": ci_99, "q_25": q25, "q_75": q75})


def _hardware(machine: Mapping[str, Any], python: str) -> HardwareInfo:
    platform = " ".join(str(machine[k]) for k in ("os", "arch") if machine.get(k))
    return HardwareInfo(backend="cpu", device_kind="cpu", device_count=1, cpu_model=str(machine.get("cpu") or ""),
                        cpu_count=int(str(machine.get("num_cpu") or 0) or 0), memory_bytes=0, platform=platform,
                        python=python, extra={"machine": machine.get("machine"), "ram": machine.get("ram"),
                                              "source": TOOL})


def export_asv(record: RunRecord, dest: Path) -> list[Path]:
    """Write a stored run as asv results under ``dest`` (an asv ``results/`` folder), for ``asv publish``.

    Writes ``<machine>/machine.json`` and ``<machine>/<commit[:8]>-calibrax.json`` and adds the
    run's benchmarks to ``benchmarks.json`` (entries already there are kept). Every case with a
    ``time`` measure is written; failed cases as ``null``, points of the grid not run as NaN.

    Raises:
        InteropError: the run has no git commit (asv files are keyed by commit) or no time measure.

    Example:
        export_asv(store.load_run("latest"), Path("results"))
    """
    commit = record.run.git.commit
    if not commit:
        raise InteropError(f"Run {record.run.id} has no git commit; asv results are keyed by commit, so only "
                           "runs made in a git checkout can be exported to asv.")
    by_bench: dict[str, list[CaseResult]] = {}
    for case in record.cases:
        if "time" in case.measures or case.status is not CaseStatus.OK:
            by_bench.setdefault(case.benchmark, []).append(case)
    if not any("time" in c.measures for cases in by_bench.values() for c in cases):
        raise InteropError(f"Run {record.run.id} has no case with a 'time' measure; asv results hold times.")
    hw = record.run.hardware
    machine = str((hw.extra.get("machine") if hw else None) or (f"calibrax-{hw.fingerprint[:8]}" if hw else "calibrax"))
    env = "calibrax"
    specs = {name: _spec(name, cases) for name, cases in by_bench.items()}
    rows = {name: _row(specs[name], cases) for name, cases in by_bench.items()}
    started_ms = int(_epoch_ms(record.run.started_at))
    python = hw.python if hw else ""
    result = {"commit_hash": commit, "env_name": env, "date": started_ms,
              "params": {"machine": machine, "python": python}, "python": python, "requirements": {},
              "env_vars": {}, "result_columns": _COLUMNS, "results": rows, "durations": {}, "version": 2}
    machine_info = {"machine": machine, "os": hw.platform if hw else "", "arch": "",
                    "cpu": hw.cpu_model if hw else "", "num_cpu": str(hw.cpu_count) if hw else "", "ram": "",
                    "version": 1}
    bench_file = dest / "benchmarks.json"
    known = json.loads(bench_file.read_text()) if bench_file.is_file() else {}
    known.update(specs, version=2)
    (dest / machine).mkdir(parents=True, exist_ok=True)
    written = [bench_file, dest / machine / "machine.json", dest / machine / f"{commit[:8]}-{env}.json"]
    for target, content in zip(written, (known, machine_info, result), strict=True):
        target.write_text(json.dumps(content, indent=1, default=str))
    return written


def _epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


def _spec(name: str, cases: Sequence[CaseResult]) -> dict[str, Any]:
    names: list[str] = []
    for case in cases:
        names.extend(k for k in case.params if k not in names)
    grid = [sorted({repr(c.params.get(k)) for c in cases}) for k in names]
    version = import_run_id("asv-benchmark", name, json.dumps(grid))
    return {"code": "", "name": name, "param_names": names, "params": grid, "type": "time", "unit": "seconds",
            "version": version, "number": 0, "repeat": 0, "rounds": 1, "min_run_count": 1, "sample_time": 0.01,
            "warmup_time": 0.0, "timeout": 60.0}


def _row(spec: Mapping[str, Any], cases: Sequence[CaseResult]) -> list[Any]:
    names, grid = spec["param_names"], spec["params"]
    found = {tuple(repr(c.params.get(k)) for k in names): c for c in cases}
    cols: dict[str, list[Any]] = {k: [] for k in ("result", "ci_a", "ci_b", "q25", "q75", "number", "repeat",
                                                  "samples")}
    for point in itertools.product(*grid) if grid else [()]:
        case = found.get(tuple(point))
        result = case.measures.get("time") if case is not None and case.status is CaseStatus.OK else None
        figures = _figures(result) if result is not None else None
        missing = math.nan if case is None or case.status is CaseStatus.SKIPPED else None
        for key in cols:
            cols[key].append(figures[key] if figures is not None else (missing if key == "result" else None))
    started = min((int(_epoch_ms(c.started_at)) for c in cases if c.started_at), default=0)
    duration = sum(c.duration for c in cases)
    return [cols["result"], grid, spec["version"], started, duration, cols["ci_a"], cols["ci_b"], cols["q25"],
            cols["q75"], cols["number"], cols["repeat"], cols["samples"]]


def _figures(result: MeasureResult) -> dict[str, Any]:
    s = result.summary
    if result.samples:
        x = sorted(result.samples)
        lo, hi = median_ci(x, 0.99)
        q = summarize(x)
        return {"result": q.median, "ci_a": lo, "ci_b": hi, "q25": _quantile(x, 0.25), "q75": _quantile(x, 0.75),
                "number": result.meta.get("number") or result.meta.get("calls_per_round") or 1,
                "repeat": len(x), "samples": list(result.samples)}
    assert s is not None
    ci = list(result.meta.get("ci_99") or [None, None])
    return {"result": s.median, "ci_a": ci[0], "ci_b": ci[1], "q25": result.meta.get("q_25"),
            "q75": result.meta.get("q_75"), "number": result.meta.get("number") or 1, "repeat": s.n, "samples": None}


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(sorted_values), q * 100))
