"""A stored run with its cases, and its documented JSON shape (``calibrax show --json``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from calibrax.core.models import (
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    RunInfo,
    RunStatus,
    Verdict,
    VerdictKind,
    measure_for,
)

__all__ = ["RunRecord", "case_to_dict", "measure_to_dict", "run_info_to_dict"]


@dataclass(frozen=True)
class RunRecord:
    """A run and every case it measured, as read back from the store.

    Attributes:
        run: the run's metadata.
        cases: its cases in the order they were measured.
        verdicts: verdicts against a baseline, when a check was made.
        baseline: the baseline's name and run id, when verdicts are present.
    """

    run: RunInfo
    cases: tuple[CaseResult, ...]
    verdicts: tuple[Verdict, ...] = ()
    baseline: Mapping[str, str] = field(default_factory=dict)

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
            "run": run_info_to_dict(self.run),
            "cases": [case_to_dict(c, samples=samples) for c in self.cases],
        }
        if self.verdicts:
            out["verdicts"] = [verdict_to_dict(v) for v in self.verdicts]
            out["baseline"] = dict(self.baseline)
        return out


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
    return {
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
    }


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
    }
    if samples:
        out["samples"] = list(m.samples)
    return out


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
        measure = Measure(name, m.get("unit", known.unit), Direction(m.get("direction", known.direction)))
        measures[name] = MeasureResult(
            measure, tuple(float(v) for v in m.get("samples", ())), None, dict(m.get("meta") or {})
        )
    return CaseResult(
        benchmark=data["benchmark"],
        params=dict(data.get("params") or {}),
        status=CaseStatus(data["status"]),
        measures=measures,
        error=data.get("error"),
        started_at=data.get("started_at") or "",
        duration=float(data.get("duration") or 0.0),
        meta=dict(data.get("meta") or {}),
    )


def record_from_dict(data: Mapping[str, Any]) -> RunRecord:
    """Rebuild a RunRecord (with verdicts) from :meth:`RunRecord.to_dict` output.

    Example:
        >>> r = RunRecord(RunInfo("r1", "t", RunStatus.OK), (CaseResult("b", {}, CaseStatus.OK),))
        >>> record_from_dict(r.to_dict()).run.id
        'r1'
    """
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
    return RunRecord(info, tuple(case_from_dict(c) for c in data.get("cases") or ()), verdicts,
                     dict(data.get("baseline") or {}))


__all__ += ["case_from_dict", "record_from_dict", "verdict_to_dict"]
