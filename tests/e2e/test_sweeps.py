"""Real multirun sweeps through Hydra's launchers, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import QUICK, run_cli

from calibrax.core import CaseStatus, RunStatus
from calibrax.storage import Store

pytestmark = pytest.mark.slow



def _runs(folder: Path) -> list:  # type: ignore[type-arg]
    with Store.open(folder / "calibrax.db") as store:
        return store.list_runs()


@pytest.mark.parametrize("launcher", ["basic", "parallel", "local"])
def test_every_job_is_a_run_of_one_sweep(userproj: Path, launcher: str) -> None:
    res = run_cli("calibrax-run", "-m", f"hydra/launcher={launcher}", "benchmarks=[steady]",
                  "params.steady.size=8,16,32", *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    runs = _runs(userproj)
    assert len(runs) == 3 and {r.status for r in runs} == {RunStatus.OK}
    assert len({r.sweep_id for r in runs}) == 1 and runs[0].sweep_id
    sizes = sorted(o for r in runs for o in r.overrides if o.startswith("params.steady.size="))
    assert sizes == ["params.steady.size=16", "params.steady.size=32", "params.steady.size=8"]
    assert "Sweep multirun/" in res.stdout and "3 job(s)" in res.stdout
    if launcher == "basic":  # jobs run by the submitting process: one counted line per finished job
        lines = [line.split(" - ", 1)[-1] for line in res.stdout.splitlines() if "] job " in line]
        assert [line[:16] for line in lines] == ["[1/3] job 0 (ben", "[2/3] job 1 (ben", "[3/3] job 2 (ben"]
        assert all("params.steady.size=" in line and ", exit 0; " in line for line in lines)
        assert "left" in lines[0] and "left" not in lines[2]


def test_killed_and_failing_jobs_are_recorded_and_resume_completes(userproj: Path) -> None:
    (userproj / "kill.flag").touch()
    args = ["-m", "hydra/launcher=local", "benchmarks=[steady],[dies_once],[raises]", "profile.isolation=none", *QUICK]
    first = run_cli("calibrax-run", *args, cwd=userproj)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "job(s) 1 did not finish" in first.stdout
    runs = {r.overrides[0]: r for r in _runs(userproj)}
    assert runs["benchmarks=[steady]"].status is RunStatus.OK
    assert runs["benchmarks=[dies_once]"].status is RunStatus.INTERRUPTED
    assert runs["benchmarks=[raises]"].status is RunStatus.FAILED
    sweep_id = runs["benchmarks=[steady]"].sweep_id

    (userproj / "kill.flag").unlink()
    again = run_cli("calibrax-run", *args, "sweep.resume=true", cwd=userproj)
    assert again.returncode == 3, again.stdout + again.stderr  # the raising job fails again
    after = _runs(userproj)
    assert all(r.sweep_id == sweep_id for r in after)
    steady = [r for r in after if r.overrides[0] == "benchmarks=[steady]"]
    dies = [r for r in after if r.overrides[0] == "benchmarks=[dies_once]"]
    assert len(steady) == 1  # it had an ok run: not re-run
    assert sorted(r.status.value for r in dies) == ["interrupted", "ok"]


def test_spooled_results_are_ingested_once(userproj: Path, tmp_path: Path) -> None:
    res = run_cli("calibrax-run", "-m", "hydra/launcher=local", "store=spool", "benchmarks=[steady]",
                  "params.steady.size=8,16", *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 spooled run(s) loaded" in res.stdout
    assert len(_runs(userproj)) == 2
    [sweep_dir] = [p for p in (userproj / "multirun").glob("*/*") if p.is_dir()]
    assert len(list(sweep_dir.glob("*/calibrax-result.json"))) == 2
    again = run_cli("calibrax", "ingest", str(sweep_dir), "--json", cwd=userproj)
    assert json.loads(again.stdout) == {"ingested": []}
    other = tmp_path / "other.db"
    fresh = run_cli("calibrax", "ingest", str(sweep_dir), "--db", str(other), "--json", cwd=userproj)
    assert len(json.loads(fresh.stdout)["ingested"]) == 2
    missing = run_cli("calibrax", "ingest", str(userproj / "nope"), cwd=userproj)
    assert missing.returncode == 2 and "Nothing to ingest" in missing.stderr


def test_dry_run_lists_every_job_and_measures_nothing(userproj: Path) -> None:
    res = run_cli("calibrax-run", "-m", "benchmarks=[steady]", "params.steady.size=8,16", "sweep.dry_run=true",
                  *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Dry run, job 0: benchmarks=[steady] params.steady.size=8" in res.stdout
    assert "  steady size=16" in res.stdout
    assert not (userproj / "calibrax.db").exists() or _runs(userproj) == []


def test_an_unavailable_hardware_target_is_a_recorded_skip(userproj: Path) -> None:
    res = run_cli("calibrax-run", "-m", "hardware=cpu,gpu", "benchmarks=[steady]", *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    runs = {r.overrides[0]: r for r in _runs(userproj)}
    assert runs["hardware=cpu"].status is RunStatus.OK
    assert runs["hardware=gpu"].status is RunStatus.SKIPPED
    with Store.open(userproj / "calibrax.db") as store:
        [case] = store.load_run(runs["hardware=gpu"].id).cases
    assert case.status is CaseStatus.SKIPPED and "needs JAX platform 'gpu'" in (case.error or "")


def test_sweep_report_has_axes_jobs_speedups_and_scaling(userproj: Path) -> None:
    res = run_cli("calibrax-run", "-m", "hardware=cpu,auto", "benchmarks=[matmul]", "params.matmul.n=32,64,128",
                  *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    out = run_cli("calibrax", "sweep", "--json", cwd=userproj)
    rep = json.loads(out.stdout)
    assert rep["axes"] == ["hardware", "params.matmul.n"] and len(rep["jobs"]) == 6
    assert {j["status"] for j in rep["jobs"]} == {"ok"}
    rows = rep["hardware"]
    assert len(rows) == 3 and all(len(r["runs"]) == 2 for r in rows)
    assert all(e["ci_low"] <= e["speedup"] <= e["ci_high"] for r in rows for e in r["runs"] if e["ci_method"] != "reference")
    [fit] = [s for s in rep["scaling"] if s["benchmark"] == "matmul" and s["param"] == "n"]
    assert fit["ci"][0] <= fit["exponent"] <= fit["ci"][1]
    text = run_cli("calibrax", "sweep", cwd=userproj).stdout
    assert "Speedup over the first hardware target" in text and "Scaling of time" in text
    missing = run_cli("calibrax", "sweep", "nope", cwd=userproj)
    assert missing.returncode == 2 and "No sweep 'nope'" in missing.stderr
