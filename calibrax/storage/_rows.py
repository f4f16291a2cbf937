"""Conversions between calibrax's core records and the rows of the store's tables.

Configs, params and meta are JSON text; enums are their values; NaN, which SQLite stores as
NULL, is restored in the fields that cannot otherwise be NULL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from calibrax.core import (
    Alert,
    CaseResult,
    CaseStatus,
    Direction,
    GitInfo,
    HardwareInfo,
    Measure,
    MeasureResult,
    RunInfo,
    RunStatus,
    Severity,
    Summary,
    ValidationEntry,
    Verdict,
    VerdictKind,
    canonical_params,
)
from calibrax.core.models import Basis, measure_for
from calibrax.core.result import case_extras, provenance_from_dict, provenance_to_dict, split_case_extras

__all__ = [
    "SUMMARY_FLOATS",
    "case",
    "case_row",
    "dumps",
    "hardware_row",
    "measure",
    "measure_row",
    "samples_row",
    "run_info",
    "run_row",
    "verdict",
    "verdict_row",
]

SUMMARY_FLOATS = ("median", "mean", "min", "max", "std", "iqr", "mad", "ci_low", "ci_high")
SUMMARY_COUNTS = ("outliers_tukey", "outliers_modz")


def dumps(value: Any) -> str:
    """JSON text for a column; values JSON cannot hold are stored as their ``str``.

    Example:
        >>> dumps({"n": 2, "scale": complex(1, 2)})
        '{"n": 2, "scale": "(1+2j)"}'
    """
    return json.dumps(value, default=str)


def real(value: float | None) -> float:
    """SQLite stores NaN as NULL; a summary field read back as NULL was NaN."""
    return math.nan if value is None else float(value)


def hardware_row(hardware: HardwareInfo) -> dict[str, Any]:
    """The ``hardware`` table's row for a machine, keyed by its fingerprint."""
    return {
        "fingerprint": hardware.fingerprint,
        "info": dumps(asdict(hardware)),
        "backend": hardware.backend,
        "device_kind": hardware.device_kind,
        "cpu_model": hardware.cpu_model,
    }


def run_row(run: RunInfo) -> dict[str, Any]:
    """The ``runs`` columns taken from a RunInfo; the store adds status and ownership."""
    hw = run.hardware
    return {
        "id": run.id,
        "started_at": run.started_at,
        "git_commit": run.git.commit,
        "git_branch": run.git.branch,
        "git_dirty": None if run.git.dirty is None else int(run.git.dirty),
        "config": dumps(dict(run.config)),
        "overrides": dumps(list(run.overrides)),
        "sweep_id": run.sweep_id,
        "hardware_id": hw.fingerprint if hw is not None else None,
        "hardware_info": dumps(asdict(hw)) if hw is not None else None,
    }


def run_info(row: Mapping[str, Any]) -> RunInfo:
    """Rebuild a RunInfo from a ``runs`` row."""
    dirty, hw = row["git_dirty"], row["hardware_info"]
    return RunInfo(
        id=row["id"],
        started_at=row["started_at"],
        status=RunStatus(row["status"]),
        git=GitInfo(row["git_commit"], row["git_branch"], None if dirty is None else bool(dirty)),
        hardware=HardwareInfo(**json.loads(hw)) if hw else None,
        config=json.loads(row["config"]),
        overrides=tuple(json.loads(row["overrides"])),
        sweep_id=row["sweep_id"],
        finished_at=row["finished_at"],
    )


def case_row(run_id: str, seq: int, case: CaseResult) -> dict[str, Any]:
    """The ``cases`` row of a case, ``seq`` being its place in the run."""
    return {
        "run_id": run_id,
        "seq": seq,
        "benchmark": case.benchmark,
        "params": dumps(dict(case.params)),
        "params_key": canonical_params(case.params),
        "status": CaseStatus(case.status).value,
        "error": case.error,
        "started_at": case.started_at,
        "duration": case.duration,
        "meta": dumps({**case.meta, **case_extras(case)}),  # the typed extras under their own keys
    }


def case(row: Mapping[str, Any], measures: Mapping[str, MeasureResult]) -> CaseResult:
    """Rebuild a CaseResult from a ``cases`` row and its measures."""
    meta, extras = split_case_extras({}, json.loads(row["meta"]))
    return CaseResult(
        benchmark=row["benchmark"],
        params=json.loads(row["params"]),
        status=CaseStatus(row["status"]),
        measures=dict(measures),
        error=row["error"],
        started_at=row["started_at"],
        duration=row["duration"],
        meta=meta,
        **extras,
    )


def measure_row(case_id: int | None, result: MeasureResult) -> dict[str, Any]:
    """The ``measures`` row of one measure; summary columns are NULL without a summary."""
    m, s = result.measure, result.summary
    row = {
        "case_id": case_id,
        "name": m.name,
        "unit": m.unit,
        "direction": Direction(m.direction).value,
        "description": m.description,
        "n": s.n if s is not None else len(result.samples),
        "ci_level": s.ci_level if s is not None else None,  # NULL: no summary
        "meta": dumps(dict(result.meta)),
        "basis": m.basis.value,
        "provenance": dumps(provenance_to_dict(result.provenance)),
    }
    row.update({f: getattr(s, f) if s is not None else None for f in SUMMARY_FLOATS})
    row.update({f: getattr(s, f) if s is not None else None for f in SUMMARY_COUNTS})
    return row


def measure(row: Mapping[str, Any]) -> MeasureResult:
    """Rebuild a MeasureResult from a ``measures`` row joined with its ``sample_values``.

    Example:
        >>> from calibrax.core import measure_for
        >>> result = MeasureResult(measure_for("time"), (1.0, 2.0), meta={"rounds": 2})
        >>> row = measure_row(1, result) | {"sample_values": samples_row(1, result)["values"]}
        >>> measure(row) == result
        True
    """
    summary = None
    if row["ci_level"] is not None:
        fields: dict[str, Any] = {f: real(row[f]) for f in SUMMARY_FLOATS}
        fields.update({f: int(row.get(f) or 0) for f in SUMMARY_COUNTS})  # NULL in rows from schema v1
        summary = Summary(n=row["n"], ci_level=row["ci_level"], **fields)
    usual = Basis(row["basis"]) if row.get("basis") else measure_for(row["name"]).basis  # NULL before v6
    provenance = json.loads(row.get("provenance") or "{}")
    return MeasureResult(
        measure=Measure(row["name"], row["unit"], Direction(row["direction"]), row["description"], usual),
        samples=tuple(json.loads(row["sample_values"] or "[]")),
        summary=summary,
        meta=json.loads(row["meta"]),
        provenance=provenance_from_dict(provenance) if provenance else None,  # type: ignore[arg-type]
    )


def samples_row(case_id: int | None, result: MeasureResult) -> dict[str, Any]:
    """The ``samples`` row of one measure: its samples as a JSON array."""
    values = dumps(list(result.samples))
    return {"case_id": case_id, "measure": result.measure.name, "values": values}


def verdict_row(run_id: str, baseline_run_id: str, v: Verdict) -> dict[str, Any]:
    """The ``verdicts`` row of one verdict."""
    return {
        "run_id": run_id,
        "baseline_run_id": baseline_run_id,
        "benchmark": v.benchmark,
        "params": dumps(dict(v.params)),
        "measure": v.measure,
        "verdict": VerdictKind(v.kind).value,
        "ratio": v.ratio,
        "baseline": v.baseline,
        "candidate": v.candidate,
        "margin": v.margin,
        "message": v.message,
        "ci_low": v.ci_low,
        "ci_high": v.ci_high,
        "p_value": v.p_value,
        "p_adjusted": v.p_adjusted,
        "details": dumps(dict(v.details)),
    }


def verdict(row: Mapping[str, Any]) -> Verdict:
    """Rebuild a Verdict from a ``verdicts`` row."""
    return Verdict(
        benchmark=row["benchmark"],
        params=json.loads(row["params"]),
        measure=row["measure"],
        kind=VerdictKind(row["verdict"]),
        ratio=row["ratio"],
        baseline=row["baseline"],
        candidate=row["candidate"],
        margin=real(row["margin"]),
        message=row["message"],
        ci_low=row.get("ci_low"),
        ci_high=row.get("ci_high"),
        p_value=row.get("p_value"),
        p_adjusted=row.get("p_adjusted"),
        details=json.loads(row.get("details") or "{}"),
    )


def alert_row(alert: Alert, created_at: str) -> dict[str, Any]:
    """The ``alerts`` row of an alert, ``created_at`` being when it was stored."""
    return {
        "id": alert.id,
        "rule": alert.rule,
        "severity": Severity(alert.severity).value,
        "message": alert.message,
        "at": alert.at,
        "subject": dumps(dict(alert.subject)),
        "value": alert.value,
        "threshold": alert.threshold,
        "run_id": alert.run_id,
        "details": dumps(dict(alert.details)),
        "created_at": created_at,
    }


def alert(row: Mapping[str, Any]) -> Alert:
    """Rebuild an Alert from an ``alerts`` row.

    Example:
        >>> a = Alert("a1", "slow", Severity.CRITICAL, "Slower.", "t0", {"benchmark": "mm"}, 2.0, 1.0, "r1")
        >>> alert(alert_row(a, "t1")) == a
        True
    """
    return Alert(
        id=row["id"],
        rule=row["rule"],
        severity=Severity(row["severity"]),
        message=row["message"],
        at=row["at"],
        subject=json.loads(row["subject"]),
        value=row["value"],
        threshold=row["threshold"],
        run_id=row["run_id"],
        details=json.loads(row["details"]),
    )


def validation_row(run_id: str, seq: int, entry: ValidationEntry, gate: bool) -> dict[str, Any]:
    """The ``validations`` row of one check of a run."""
    return {
        "run_id": run_id,
        "seq": seq,
        "kind": entry.kind,
        "name": entry.name,
        "passed": int(entry.passed),
        "message": entry.message,
        "figures": dumps(dict(entry.figures)),
        "gate": int(gate),
    }


def validation_entry(row: Mapping[str, Any]) -> ValidationEntry:
    """Rebuild a ValidationEntry from a ``validations`` row.

    Example:
        >>> e = ValidationEntry("error", "matmul f32", True, "ok", {"max_abs": 1e-5})
        >>> validation_entry(validation_row("r1", 0, e, False)) == e
        True
    """
    return ValidationEntry(row["kind"], row["name"], bool(row["passed"]), row["message"], json.loads(row["figures"]))


__all__ += ["alert", "alert_row", "validation_entry", "validation_row"]
