"""The opt-in tracing profiler and the cold compile in a fresh process, run by calibrax-run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from calibrax.storage import Store
from tests.conftest import QUICK, run_cli


@pytest.mark.slow
def test_a_trace_per_case_and_a_cold_compile_time(project: Path) -> None:
    run = run_cli("calibrax-run", "benchmarks=[matmul]", "params.matmul.n=[64,128]", "profile.profilers=[timing,tracing]",
                  "profile.cold_compile=true", "profile.tracing.calls=2", *QUICK, cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    shown = json.loads(run_cli("calibrax", "show", "latest", "--json", "--no-samples", cwd=project).stdout)
    run_id = shown["run"]["id"]
    with Store.open(project / "calibrax.db") as store:
        artifacts = store.load_artifacts(run_id)
    assert [(a.case_seq, a.name, a.kind) for a in artifacts] == [(0, "trace", "perfetto_trace"), (1, "trace", "perfetto_trace")]
    for case, artifact in zip(shown["cases"], artifacts, strict=True):
        path = Path(artifact.path)
        assert path.is_file() and path.name == "perfetto_trace.json.gz"
        assert path.is_relative_to(project / "traces" / run_id / "matmul")  # next to the store, per run
        assert json.loads(gzip.open(path).read())["traceEvents"]  # a real Chrome/Perfetto trace
        summary = artifact.summary
        assert summary["scope"] == "host" and summary["calls"] == 2 and summary["modules"] == ["jit_matmul"]
        top = summary["ops"][0]
        assert top["count"] == 2 and top["total_us"] > 0 and top["share"] > 0.5  # one fused dot per call
        assert not any(op["op"].startswith(("PjitFunction", "$")) for op in summary["ops"])  # no Python frames
        assert case["artifacts"]["trace"]["summary"] == summary  # in `calibrax show --json` too
        assert case["measures"]["traced_op_time"]["median"] == pytest.approx(summary["total_us"] * 1e-6 / 2)
        cold = case["measures"]["cold_compile_time"]
        assert cold["unit"] == "s" and cold["direction"] == "lower" and 0 < cold["median"] < 30
        assert cold["meta"]["process"] == "fresh" and cold["meta"]["cache_enabled"] is False
        assert cold["meta"]["pid"] not in (case["meta"]["pid"],)
