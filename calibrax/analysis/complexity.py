"""Complexity classes of a benchmark's time over each of its size sweeps.

A benchmark whose grid has a numeric param with at least three values gets, once its cases are
measured, a fit of every candidate class (see :func:`calibrax.analysis.scaling.classify_complexity`)
and a power-law exponent over that param, the other params held fixed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from calibrax.analysis._common import AnalysisError
from calibrax.analysis.scaling import classify_complexity, fit_power_law
from calibrax.core.models import CaseResult, CaseStatus

__all__ = ["complexity_fits"]


def _size_params(cases: Sequence[CaseResult]) -> list[str]:
    """Params whose values are positive numbers taking at least 3 distinct values."""
    out = []
    for name in cases[0].params if cases else []:
        values = [c.params.get(name) for c in cases]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values) and len(set(values)) >= 3:
            out.append(name)
    return out


def complexity_fits(cases: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """Complexity classes of ``time`` over each size param, the other params held fixed.

    Returns one record per (size param, fixed values of the others) with at least 3 sizes:
    ``param``, ``fixed``, ``sizes``, ``times`` (the fastest round's seconds per call), ``best`` and
    ``runner_up`` (class, ``a``, ``b``, ``relative_rms``), ``warning`` and the power-law
    ``exponent`` with its 95% CI.
    """
    ok = [c for c in cases if c.status is CaseStatus.OK and c.measures.get("time") and c.measures["time"].samples]
    records = []
    for param in _size_params(ok):
        groups: dict[str, list[CaseResult]] = {}
        for c in ok:
            fixed = {k: v for k, v in c.params.items() if k != param}
            groups.setdefault(json.dumps(fixed, sort_keys=True, default=str), []).append(c)
        for key, group in groups.items():
            # The fastest round: the time least disturbed by other load on the machine.
            pairs = sorted((float(c.params[param]), min(c.measures["time"].samples)) for c in group)
            if len({n for n, _ in pairs}) < 3:
                continue
            sizes, times = [n for n, _ in pairs], [t for _, t in pairs]
            try:
                fit = classify_complexity(sizes, times)
                power = fit_power_law(sizes, times)
            except AnalysisError as exc:
                records.append({"param": param, "fixed": json.loads(key), "error": str(exc)})
                continue
            records.append({
                "param": param, "fixed": json.loads(key), "sizes": sizes, "times": times,
                "best": _candidate(fit.best), "runner_up": _candidate(fit.runner_up),
                "warning": fit.warning, "decades": fit.decades, "statistic": "min",
                "exponent": {"value": power["b"].value, "ci_low": power["b"].ci_low, "ci_high": power["b"].ci_high},
            })
    return records


def _candidate(c: Any) -> dict[str, Any]:
    return {"name": c.name, "a": c.a, "b": c.b, "relative_rms": c.relative_rms}
