"""A stored run with its cases, and its one versioned serialiser.

The same functions turn records into JSON-ready dicts and back for every wire and file a
record crosses: the worker pipe, spool files, ``calibrax show --json`` and the SQLite rows
(whose ``meta`` column holds a case's typed extras under the same keys). Every JSON document
carries ``format_version``; version 1 files (extras inside ``meta``) still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from calibrax.core.errors import StoreError
from calibrax.core.models import (
    STANDARD_MEASURES,
    Basis,
    BenchmarkResult,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    Provenance,
    RunInfo,
    RunStatus,
    Verdict,
    VerdictKind,
    measure_for,
)

__all__ = ["FORMAT_VERSION", "RunRecord", "case_extras", "case_to_dict", "measure_to_dict", "run_info_to_dict",
           "split_case_extras"]

FORMAT_VERSION = 2
"""The version of the JSON documents calibrax writes (1: case extras rode inside ``meta``)."""

_EXTRAS = ("series", "artifacts", "unavailable", "profiler_errors")


@dataclass(frozen=True)
class RunRecord:
    """A run and every case it measured, as read back from the store.

    Attributes:
        run: the run's metadata.
        cases: its cases in the order they were measured.
        verdicts: verdicts against a baseline, when a check was made.
        baseline: the baseline's name and run id, when verdicts are present.
        benchmarks: what each benchmark's cases give together (complexity fits).
    """

    run: RunInfo
    cases: tuple[CaseResult, ...]
    verdicts: tuple[Verdict, ...] = ()
    baseline: Mapping[str, str] = field(default_factory=dict)
    benchmarks: tuple[BenchmarkResult, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Number of cases per status, every status listed."""
        out = {s.value: 0 for s in CaseStatus}
        for c in self.cases:
            out[c.status.value] += 1
        return out

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        """Return the documented JSON shape: ``{"run": {...}, "cases": [...]}``."""
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "run": run_info_to_dict(self.run),
            "cases": [case_to_dict(c, samples=samples) for c in self.cases],
        }
        if self.benchmarks:
            out["benchmarks"] = [benchmark_to_dict(b) for b in self.benchmarks]
        if self.verdicts:
            out["verdicts"] = [verdict_to_dict(v) for v in self.verdicts]
            out["baseline"] = dict(self.baseline)
        return out


def benchmark_to_dict(result: BenchmarkResult) -> dict[str, Any]:
    """A benchmark-level result as JSON (the ``benchmarks`` list of the JSON shape)."""
    return {"benchmark": result.benchmark, "complexity": [dict(f) for f in result.complexity]}


def benchmark_from_dict(data: Mapping[str, Any]) -> BenchmarkResult:
    """Rebuild a BenchmarkResult from :func:`benchmark_to_dict` output.

    Example:
        >>> r = BenchmarkResult("matmul", ({"param": "n"},))
        >>> benchmark_from_dict(benchmark_to_dict(r)) == r
        True
    """
    return BenchmarkResult(str(data["benchmark"]), tuple(dict(f) for f in data.get("complexity") or ()))


def lift_complexity(cases: tuple[CaseResult, ...]) -> tuple[tuple[CaseResult, ...], tuple[BenchmarkResult, ...]]:
    """Cases of version 1 documents and stores carried a benchmark's complexity fits in the
    meta of its last case; return the cases without them and the fits as BenchmarkResults."""
    found: list[BenchmarkResult] = []
    out: list[CaseResult] = []
    for case in cases:
        if "complexity" in case.meta:
            found.append(BenchmarkResult(case.benchmark, tuple(dict(f) for f in case.meta["complexity"])))
            case = replace(case, meta={k: v for k, v in case.meta.items() if k != "complexity"})
        out.append(case)
    return tuple(out), tuple(found)


def run_info_to_dict(run: RunInfo) -> dict[str, Any]:
    """The ``run`` object of the JSON shape."""
    hw = None
    if run.hardware is not None:
        hw = asdict(run.hardware)
        hw["fingerprint"] = run.hardware.fingerprint
    return {
        "id": run.id,
        "status": run.status.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "git": asdict(run.git),
        "hardware": hw,
        "config": dict(run.config),
        "overrides": list(run.overrides),
        "sweep_id": run.sweep_id,
    }


def case_to_dict(case: CaseResult, *, samples: bool = True) -> dict[str, Any]:
    """One element of the ``cases`` list of the JSON shape."""
    out: dict[str, Any] = {
        "benchmark": case.benchmark,
        "params": dict(case.params),
        "status": case.status.value,
        "error": case.error,
        "started_at": case.started_at,
        "duration": case.duration,
        "meta": dict(case.meta),
        "measures": {
            name: measure_to_dict(m, samples=samples) for name, m in case.measures.items()
        },
        **case_extras(case),
    }
    if case.validation:
        out["validation"] = [dict(e) for e in case.validation]
    return out


def case_extras(case: CaseResult) -> dict[str, Any]:
    """The case's typed extras that are set (series, artifacts, unavailable, profiler errors).

    Example:
        >>> case_extras(CaseResult("b", {}, CaseStatus.OK, unavailable={"energy": "no counter"}))
        {'unavailable': {'energy': 'no counter'}}
    """
    out: dict[str, Any] = {}
    if case.series:
        out["series"] = {k: list(v) for k, v in case.series.items()}
    if case.artifacts:
        out["artifacts"] = {k: dict(v) for k, v in case.artifacts.items()}
    if case.unavailable:
        out["unavailable"] = dict(case.unavailable)
    if case.profiler_errors:
        out["profiler_errors"] = dict(case.profiler_errors)
    return out


def split_case_extras(data: Mapping[str, Any], meta: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(meta, extras)``: the typed extras of a case document (or a store row) as keyword
    arguments of :class:`CaseResult`, taken from ``data`` or, in version 1 documents and
    stores, from ``meta``, which is returned without them.

    Example:
        >>> split_case_extras({}, {"pid": 7, "unavailable": {"energy": "no counter"}})
        ({'pid': 7}, {'unavailable': {'energy': 'no counter'}})
    """
    rest = {k: v for k, v in meta.items() if k not in _EXTRAS}
    extras: dict[str, Any] = {}
    for key in _EXTRAS:
        value = data.get(key, meta.get(key))
        if not value:
            continue
        if key == "series":
            value = {str(k): tuple(v) for k, v in value.items()}
        elif key == "artifacts":
            value = {str(k): dict(v) for k, v in value.items()}
        else:
            value = dict(value)
        extras[key] = value
    return rest, extras


def measure_to_dict(m: MeasureResult, *, samples: bool = True) -> dict[str, Any]:
    """One measure of a case: unit, direction, summary, samples and how they were taken."""
    s = m.summary
    out: dict[str, Any] = {
        "unit": m.measure.unit,
        "direction": m.measure.direction.value,
        "n": len(m.samples),
        "median": s.median if s else None,
        "mean": s.mean if s else None,
        "min": s.min if s else None,
        "max": s.max if s else None,
        "std": s.std if s else None,
        "iqr": s.iqr if s else None,
        "mad": s.mad if s else None,
        "ci_low": s.ci_low if s else None,
        "ci_high": s.ci_high if s else None,
        "outliers_tukey": s.outliers_tukey if s else None,
        "outliers_modz": s.outliers_modz if s else None,
        "meta": dict(m.meta),
        "provenance": provenance_to_dict(m.provenance),
    }
    if samples:
        out["samples"] = list(m.samples)
    return out


def provenance_to_dict(p: Provenance) -> dict[str, Any]:
    """A measure's provenance as JSON: ``{"basis", "source", "inputs"}``."""
    return {"basis": p.basis.value, "source": p.source, "inputs": list(p.inputs)}


def provenance_from_dict(data: Mapping[str, Any]) -> Provenance:
    """Rebuild a Provenance from :func:`provenance_to_dict` output.

    Example:
        >>> provenance_from_dict({"basis": "modelled", "source": "formula"}).source
        'formula'
    """
    return Provenance(Basis(data["basis"]), str(data.get("source") or ""), tuple(data.get("inputs") or ()))


def verdict_to_dict(v: Verdict) -> dict[str, Any]:
    """A verdict as JSON."""
    return {
        "benchmark": v.benchmark,
        "params": dict(v.params),
        "measure": v.measure,
        "verdict": v.kind.value,
        "ratio": v.ratio,
        "baseline": v.baseline,
        "candidate": v.candidate,
        "margin": v.margin,
        "message": v.message,
        "ci_low": v.ci_low,
        "ci_high": v.ci_high,
        "p_value": v.p_value,
        "p_adjusted": v.p_adjusted,
        "details": dict(v.details),
    }


def case_from_dict(data: Mapping[str, Any]) -> CaseResult:
    """Rebuild a CaseResult from :func:`case_to_dict` output (summaries are not kept).

    Example:
        >>> c = CaseResult("b", {"n": 1}, CaseStatus.OK)
        >>> case_from_dict(case_to_dict(c)) == c
        True
    """
    measures = {}
    for name, m in data.get("measures", {}).items():
        known = measure_for(name)
        measure = Measure(name, m.get("unit", known.unit), Direction(m.get("direction", known.direction)),
                          known.description if name in STANDARD_MEASURES else "", known.basis)
        prov = m.get("provenance")
        measures[name] = MeasureResult(
            measure, tuple(float(v) for v in m.get("samples", ())), None, dict(m.get("meta") or {}),
            provenance_from_dict(prov) if prov else None,  # type: ignore[arg-type]  # version 1: the usual basis
        )
    meta, extras = split_case_extras(data, data.get("meta") or {})
    return CaseResult(
        benchmark=data["benchmark"],
        params=dict(data.get("params") or {}),
        status=CaseStatus(data["status"]),
        measures=measures,
        error=data.get("error"),
        started_at=data.get("started_at") or "",
        duration=float(data.get("duration") or 0.0),
        meta=meta,
        validation=tuple(dict(e) for e in data.get("validation") or ()),
        **extras,
    )


def record_from_dict(data: Mapping[str, Any]) -> RunRecord:
    """Rebuild a RunRecord (with verdicts) from :meth:`RunRecord.to_dict` output.

    Example:
        >>> r = RunRecord(RunInfo("r1", "t", RunStatus.OK), (CaseResult("b", {}, CaseStatus.OK),))
        >>> record_from_dict(r.to_dict()).run.id
        'r1'
    """
    version = data.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StoreError(
            f"This run was written in format version {version!r}, newer than this calibrax reads "
            f"(up to {FORMAT_VERSION}); upgrade calibrax to load it."
        )
    run = data["run"]
    hw = run.get("hardware")
    hardware = None
    if hw:
        known = {f.name for f in fields(HardwareInfo)}
        hardware = HardwareInfo(**{k: v for k, v in hw.items() if k in known})
    info = RunInfo(
        id=run["id"], started_at=run["started_at"], status=RunStatus(run["status"]),
        git=GitInfo(**(run.get("git") or {})), hardware=hardware, config=dict(run.get("config") or {}),
        overrides=tuple(run.get("overrides") or ()), sweep_id=run.get("sweep_id"), finished_at=run.get("finished_at"),
    )
    verdicts = tuple(
        Verdict(v["benchmark"], dict(v["params"]), v["measure"], VerdictKind(v["verdict"]), v["ratio"], v["baseline"],
                v["candidate"], v["margin"], v["message"], v.get("ci_low"), v.get("ci_high"), v.get("p_value"),
                v.get("p_adjusted"), dict(v.get("details") or {}))
        for v in data.get("verdicts") or ()
    )
    cases, lifted = lift_complexity(tuple(case_from_dict(c) for c in data.get("cases") or ()))
    benchmarks = tuple(benchmark_from_dict(b) for b in data.get("benchmarks") or ()) or lifted
    return RunRecord(info, cases, verdicts, dict(data.get("baseline") or {}), benchmarks)


__all__ += ["provenance_from_dict", "provenance_to_dict", "benchmark_from_dict", "benchmark_to_dict", "case_from_dict", "lift_complexity", "record_from_dict",
            "verdict_to_dict"]
