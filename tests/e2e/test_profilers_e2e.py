"""`calibrax-run profile.profilers=[all]` on the default suite, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_all_profilers_on_the_default_suite(project: Path, tmp_path: Path) -> None:
    env = {"CALIBRAX_CACHE_DIR": str(tmp_path / "cache")}
    run = run_cli("calibrax-run", "profile=quick", "profile.profilers=[all]", cwd=project, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    shown = run_cli("calibrax", "show", "latest", "--json", "--no-samples", cwd=project)
    cases = json.loads(shown.stdout)["cases"]
    assert len(cases) == 8 and all(c["status"] == "ok" for c in cases)
    for case in cases:
        measures = case["measures"]
        assert {"flops", "bytes_accessed", "compiled_peak_memory", "peak_rss", "cpu_time", "recompilations",
                "achieved_flops", "arithmetic_intensity"} <= set(measures), case["benchmark"]
        assert "profiler_errors" not in case, case.get("profiler_errors")
        for name in ("energy", "carbon", "gpu_power", "device_peak_memory", "roofline_efficiency"):
            assert name in case["unavailable"] and name not in measures  # unavailable, never 0
    matmul = next(c for c in cases if c["benchmark"] == "matmul" and c["params"]["n"] == 256)
    assert matmul["measures"]["flops"]["median"] == 2 * 256**3
    fits = {b["benchmark"]: b["complexity"] for b in json.loads(shown.stdout)["benchmarks"]}
    assert fits["matmul"][0]["param"] == "n"  # the benchmark's own record, not a case's meta
    assert all("complexity" not in c["meta"] for c in cases)


@pytest.mark.slow
def test_an_unknown_profiler_exits_2_before_anything_runs(project: Path) -> None:
    run = run_cli("calibrax-run", "profile.profilers=[timing,flop]", cwd=project)
    assert run.returncode == 2
    assert "Unknown profiler 'flop'. Did you mean 'flops'?" in run.stderr
    assert not (project / "calibrax.db").exists() or "Run " not in run.stdout
