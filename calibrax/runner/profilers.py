"""The runner's side of profiling: which profilers run, with which peaks, and complexity fits.

- :func:`check_profilers` validates ``profile.profilers`` and the carbon backend before
  anything runs (exit 2).
- :func:`profiling_options` turns the config and the machine's fingerprint into the
  :class:`~calibrax.profiling.ProfilingOptions` sent to every case: roofline peaks come from
  the hardware target (``hardware.peak_flops``, ``hardware.bandwidth``), else from a
  ``calibrax hardware --calibrate`` of this machine, else none (the roofline then says why).
- :func:`with_complexity` fits complexity classes over each size sweep of a benchmark once its
  cases are done and stores them in the meta of its last case (the one that completes the
  sweep) under ``complexity``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from calibrax.analysis import AnalysisError, classify_complexity, fit_power_law
from calibrax.core.errors import ConfigError
from calibrax.core.models import CaseResult, CaseStatus, HardwareInfo
from calibrax.profiling.base import ProfilingOptions, resolve_profilers
from calibrax.profiling.calibrate import calibration_path, load_calibration
from calibrax.profiling.carbon import codecarbon_available

__all__ = ["check_profilers", "complexity_fits", "profiling_options", "with_complexity"]


def check_profilers(cfg: Mapping[str, Any]) -> None:
    """Raise ConfigError for an unknown name in ``profile.profilers``, for a codecarbon backend
    without its country or package, and for ``trace_calls`` below 1."""
    profile = cfg.get("profile") or {}
    names, _ = resolve_profilers(profile.get("profilers"))
    if int(profile.get("trace_calls", 3)) < 1:
        raise ConfigError(f"profile.trace_calls must be at least 1, got {profile.get('trace_calls')!r}.")
    if "carbon" not in names or str(profile.get("carbon_backend", "formula")) != "codecarbon":
        return
    country = profile.get("carbon_country")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{3}", country):
        raise ConfigError(
            "profile.carbon_backend=codecarbon needs the grid's country as an ISO 3166 alpha-3 code, got "
            f"profile.carbon_country={country!r}; e.g. profile.carbon_country=FRA."
        )
    if not codecarbon_available():
        raise ConfigError(
            "profile.carbon_backend=codecarbon needs the codecarbon package, which is not installed here. "
            "Install it with: pip install calibrax[carbon] (or use profile.carbon_backend=formula)."
        )


def profiling_options(cfg: Mapping[str, Any], hardware: HardwareInfo, trace_dir: str | None = None) -> ProfilingOptions:
    """The profiling options of a run on ``hardware``; traces go under ``trace_dir``."""
    profile = cfg.get("profile") or {}
    names, steps = resolve_profilers(profile.get("profilers"))
    hw = cfg.get("hardware") or {}
    peak, bandwidth = hw.get("peak_flops"), hw.get("bandwidth")
    source = f"hardware target {hw.get('name', '?')!r}" if peak and bandwidth else None
    if not (peak and bandwidth):
        cal = load_calibration(hardware.fingerprint)
        if cal is not None:
            peak, bandwidth = cal.peak_flops, cal.bandwidth
            source = f"calibration of {cal.measured_at} in {calibration_path()}"
        else:
            peak = bandwidth = None
    return ProfilingOptions(
        profilers=names,
        peak_flops=float(peak) if peak else None,
        bandwidth=float(bandwidth) if bandwidth else None,
        peak_source=source,
        carbon_intensity=float(profile.get("carbon_intensity", 475.0)),
        pue=float(profile.get("pue", 1.0)),
        complexity="complexity" in steps,
        carbon_backend=str(profile.get("carbon_backend", "formula")),
        carbon_country=profile.get("carbon_country"),
        trace_dir=trace_dir,
        trace_calls=int(profile.get("trace_calls", 3)),
    )


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


def with_complexity(results: Iterator[tuple[int, CaseResult]], total: int,
                    enabled: bool) -> Iterator[tuple[int, CaseResult]]:
    """Pass ``results`` through; the last of ``total`` cases gets the benchmark's fits.

    Nothing is held back: every case is yielded as soon as it arrives.
    """
    seen: list[CaseResult] = []
    for index, case in results:
        seen.append(case)
        if enabled and len(seen) == total:
            fits = complexity_fits(seen)
            if fits:
                case = replace(case, meta={**case.meta, "complexity": fits})
        yield index, case
