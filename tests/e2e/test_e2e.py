"""calibrax-run and calibrax as a user runs them: subprocesses in a temporary folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import BIN, QUICK, run_cli

from calibrax.core import CaseStatus, RunStatus
from calibrax.storage import Store

pytestmark = pytest.mark.slow



def _json(*args: str, cwd: Path) -> object:
    res = run_cli("calibrax", *args, "--json", cwd=cwd)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_default_suite_end_to_end(project: Path) -> None:
    res = run_cli("calibrax-run", cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    runs = _json("runs", cwd=project)
    assert [r["status"] for r in runs] == ["ok"]  # type: ignore[index]
    shown = _json("show", "latest", cwd=project)
    cases = shown["cases"]  # type: ignore[index]
    assert {c["benchmark"] for c in cases} == {"matmul", "softmax", "mlp_forward", "mlp_train_step"}
    for case in cases:
        assert case["status"] == "ok"
        assert case["measures"]["time"]["n"] >= 5 and len(case["measures"]["time"]["samples"]) >= 5
        assert case["measures"]["compile_time"]["median"] > 0
    report = project / "reports" / runs[0]["id"] / "index.html"  # type: ignore[index]
    assert report.is_file() and f"Report: {report}" in res.stdout
    page = report.read_text()
    HTMLParser().feed(page)
    assert page.count('<div class="drawn" data-chart="s">') == len(cases)  # a strip chart per case, drawn by the page
    assert (project / "reports" / runs[0]["id"] / "summary.md").is_file()  # type: ignore[index]
    assert json.loads((project / "reports" / runs[0]["id"] / "run.json").read_text())["run"]["id"] == runs[0]["id"]  # type: ignore[index]


def _set_work(userproj: Path, work: int) -> None:
    src = userproj / "userbench.py"
    src.write_text(re.sub(r"^WORK = \d+", f"WORK = {work}", src.read_text(), flags=re.M))


@pytest.mark.serial
def test_baseline_then_check_passes_on_same_code_and_fails_when_twice_as_slow(userproj: Path) -> None:
    args = ["suite=mine", "profile.min_rounds=20", "thresholds.measures.time.margin=0.25", *QUICK]
    assert run_cli("calibrax-run", *args, cwd=userproj).returncode == 0
    assert run_cli("calibrax", "baseline", "set", "main", cwd=userproj).returncode == 0
    assert run_cli("calibrax-run", *args, cwd=userproj).returncode == 0
    same = run_cli("calibrax", "check", "--baseline", "main", cwd=userproj)
    assert same.returncode == 0, same.stdout + same.stderr

    _set_work(userproj, 2)
    gated = run_cli("calibrax-run", *args, "ci=stored", "ci.baseline=main", cwd=userproj)
    if gated.returncode == 0 and "1 unstable" in gated.stdout:
        # A burst of load on this shared machine made one side noisy (the baseline's rounds or the
        # candidate's): the gate rightly said unstable rather than pass or fail. Measure both sides
        # once more, as a team would after a noisy CI job: a fresh baseline, then the candidate.
        _set_work(userproj, 1)
        assert run_cli("calibrax-run", *args, cwd=userproj).returncode == 0
        assert run_cli("calibrax", "baseline", "set", "main", cwd=userproj).returncode == 0
        _set_work(userproj, 2)
        gated = run_cli("calibrax-run", *args, "ci=stored", "ci.baseline=main", cwd=userproj)
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "REGRESSED steady" in gated.stdout
    slow = run_cli("calibrax", "check", "--baseline", "main", cwd=userproj)
    assert slow.returncode == 1 and "REGRESSED steady" in slow.stdout
    with Store.open(userproj / "calibrax.db") as store:
        assert any(v.failed for v in store.load_verdicts(store.resolve_run_id("latest")))


def test_failures_are_stored_and_the_suite_goes_on(userproj: Path) -> None:
    res = run_cli(
        "calibrax-run", "benchmarks=[raises,sleeps,kills_itself,steady]", "profile.case_timeout=3", *QUICK,
        cwd=userproj,
    )
    assert res.returncode == 3, res.stdout + res.stderr
    with Store.open(userproj / "calibrax.db") as store:
        record = store.load_run("latest")
    status = {c.benchmark: c for c in record.cases}
    assert record.run.status is RunStatus.FAILED
    assert status["raises"].status is CaseStatus.ERROR
    assert "Traceback" in (status["raises"].error or "") and "broken on purpose" in (status["raises"].error or "")
    assert status["sleeps"].status is CaseStatus.TIMEOUT and "case_timeout=3" in (status["sleeps"].error or "")
    assert status["kills_itself"].status is CaseStatus.CRASHED and "SIGKILL" in (status["kills_itself"].error or "")
    assert status["steady"].status is CaseStatus.OK and len(status["steady"].measures["time"].samples) >= 5


def test_user_conf_subset_extra_params_and_sweep(userproj: Path) -> None:
    res = run_cli("calibrax-run", "benchmarks=[steady]", "extra_benchmarks=[matmul]", "params.matmul.n=32",
                  "params.steady.size=[16,32]", *QUICK, cwd=userproj)
    assert res.returncode == 0, res.stdout + res.stderr
    shown = _json("show", "latest", "--no-samples", cwd=userproj)
    assert [(c["benchmark"], c["params"]) for c in shown["cases"]] == [  # type: ignore[index]
        ("steady", {"size": 16}), ("steady", {"size": 32}), ("matmul", {"n": 32, "dtype": "float32"})]
    assert shown["run"]["config"]["params"]["steady"]["size"] == [16, 32]  # type: ignore[index]
    assert "params.steady.size=[16,32]" in shown["run"]["overrides"]  # type: ignore[index]

    sweep = run_cli("calibrax-run", "-m", "benchmarks=[steady]", "params.steady.size=8,16", *QUICK, cwd=userproj)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    runs = _json("runs", cwd=userproj)
    swept = [r for r in runs if r["sweep_id"]]  # type: ignore[union-attr]
    assert len(swept) == 2 and len({r["sweep_id"] for r in swept}) == 1
    assert sorted(r["overrides"][1] for r in swept) == ["params.steady.size=16", "params.steady.size=8"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["profle=quick"], "Did you mean 'profile'"),
        (["profile.min_rounds=abc"], "could not be converted to Integer"),
        (["benchmarks=[nope]"], "Unknown benchmark 'nope'"),
        (["profile=quik"], "Available options in 'profile'"),
        (["hardware=gpu"], "hardware target needs JAX platform 'gpu'"),
        (["ci=stored", "ci.baseline=main", "thresholds.gate=[tme]"], "Did you mean 'time'?"),
        (["thresholds.gate=[time,flops]"], "profile.profilers=[timing,flops]"),
        (["+profile.min_round=5"], "Did you mean 'profile.min_rounds'"),
        (["profile.timr=device"], "Did you mean 'profile.timer'?"),
        (["params.matmul.n=abc"], "declares n as an integer"),
    ],
)
def test_config_mistakes_exit_2_before_anything_runs(project: Path, args: list[str], message: str) -> None:
    res = run_cli("calibrax-run", *args, cwd=project)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stdout + res.stderr
    if (project / "calibrax.db").exists():
        with Store.open(project / "calibrax.db") as store:
            assert store.list_runs() == []


def test_a_missing_source_exits_2_and_a_broken_unselected_yaml_only_warns(project: Path) -> None:
    bench = project / "conf" / "benchmark"
    bench.mkdir(parents=True)
    (bench / "ghost.yaml").write_text("source: does_not_exist\nparams: {n: [1]}\n")
    res = run_cli("calibrax-run", "benchmarks=[ghost]", cwd=project)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "ghost.yaml: source 'does_not_exist' names no module" in res.stderr and "Traceback" not in res.stderr
    (bench / "ghost.yaml").unlink()
    (bench / "broken.yaml").write_text("source: mybench\nparams: [unclosed\n")
    ok = run_cli("calibrax-run", "benchmarks=[softmax]", "params.softmax.cols=[8]", *QUICK, cwd=project)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "broken is not selected" in ok.stdout + ok.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["--shell-completion", "install=bash"], "hydra_bash_completion"),
    (["--cfg", "job"], "benchmarks:"),
    (["--info", "defaults"], "Defaults List"),
])
def test_hydra_flags_pass_through_untouched(project: Path, args: list[str], expected: str) -> None:
    res = run_cli("calibrax-run", *args, cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    assert expected in res.stdout and not (project / "calibrax.db").exists()


@pytest.mark.parametrize("damage", ["text", "truncated"])
def test_a_bad_store_file_is_an_error_and_is_never_overwritten(userproj: Path, damage: str) -> None:
    db = userproj / "calibrax.db"
    if damage == "text":
        db.write_text("these are my notes, not a database\n" * 100)
    else:
        assert run_cli("calibrax-run", "suite=mine", *QUICK, cwd=userproj).returncode == 0
        with open(db, "r+b") as fh:
            fh.truncate(db.stat().st_size // 2)
    before = db.read_bytes()
    for cmd in (["calibrax-run", "suite=mine", *QUICK], ["calibrax", "runs"]):
        res = run_cli(*cmd, cwd=userproj)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "Error:" in res.stderr and str(db.name) in res.stderr
        assert db.read_bytes() == before


def test_sigkill_mid_suite_leaves_an_interrupted_run_with_its_cases(userproj: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(BIN / "calibrax-run"), "benchmarks=[steady,sleeps]", "profile.case_timeout=120", *QUICK],
        cwd=userproj, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    db = userproj / "calibrax.db"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if db.exists():
                with Store.open(db) as store:
                    runs = store.list_runs()
                    if runs and store.load_run(runs[0].id).cases:
                        break
            time.sleep(0.5)
        else:
            pytest.fail("calibrax-run stored no case within 120 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    with Store.open(db) as store:
        record = store.load_run("latest")
    assert record.run.status is RunStatus.INTERRUPTED
    assert [c.benchmark for c in record.cases] == ["steady"] and record.cases[0].status is CaseStatus.OK
    shown = _json("show", "latest", cwd=userproj)
    assert shown["run"]["status"] == "interrupted"  # type: ignore[index]


def test_an_installed_plugin_benchmark_runs_by_name(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "calibrax_demo_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: calibrax-demo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[calibrax.benchmarks]\nplugged_sum = calibrax_demo_plugin\n")
    (site / "calibrax_demo_plugin.py").write_text(
        "import jax, jax.numpy as jnp\nimport calibrax\n\n"
        "@calibrax.benchmark('plugged_sum', params={'n': [8]})\n"
        "def plugged_sum(n):\n"
        "    return calibrax.Workload(jax.jit(jnp.sum), args=(jnp.ones(n),))\n"
    )
    env = {"PYTHONPATH": str(site)}
    listed = run_cli("calibrax", "benchmarks", "list", "--json", cwd=project, env=env)
    assert "plugged_sum" in {r["name"] for r in json.loads(listed.stdout)}
    res = run_cli("calibrax-run", "benchmarks=[plugged_sum]", "params.plugged_sum.n=16", *QUICK, cwd=project, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    with Store.open(project / "calibrax.db") as store:
        [case] = store.load_run("latest").cases
    assert case.benchmark == "plugged_sum" and case.params == {"n": 16} and case.status is CaseStatus.OK


def test_git_commit_branch_and_dirty_flag_are_recorded(userproj: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=userproj, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "trunk")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start")
    git("add", "userbench.py")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "bench")
    head = git("rev-parse", "HEAD")
    assert run_cli("calibrax-run", "suite=mine", *QUICK, cwd=userproj).returncode == 0
    (userproj / "userbench.py").write_text((userproj / "userbench.py").read_text() + "\n# edited\n")
    assert run_cli("calibrax-run", "suite=mine", *QUICK, cwd=userproj).returncode == 0
    with Store.open(userproj / "calibrax.db") as store:
        older, newer = reversed(store.list_runs())
    assert (older.git.commit, older.git.branch, older.git.dirty) == (head, "trunk", False)
    assert (newer.git.commit, newer.git.dirty) == (head, True)


def _git_repo(folder: Path) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


@pytest.mark.slow  # interleaved: each pair of trials shares the machine's state, so it runs beside other tests
def test_interleaved_gate_against_a_git_ref(userproj: Path) -> None:
    (userproj / ".gitignore").write_text("calibrax.db*\noutputs/\nreports/\n")
    _git_repo(userproj)
    args = ["suite=mine", "ci=interleaved", "ci.ref=main", "ci.trials=5", *QUICK]
    same = run_cli("calibrax-run", *args, "ci.max_trials=5", cwd=userproj)  # pass or inconclusive: exit 0
    assert same.returncode == 0, same.stdout + same.stderr
    _set_work(userproj, 2)  # an uncommitted change that doubles the work
    # decided after 5 trials per side on a quiet machine; load bursts on a shared one may need more
    slow = run_cli("calibrax-run", *args, "ci.max_trials=20", cwd=userproj)
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "REGRESSED steady" in slow.stdout and "each trial judged by its best round" in slow.stdout
    assert "interleaved verdicts in" in slow.stdout + slow.stderr  # the time to the verdict
    with Store.open(userproj / "calibrax.db") as store:
        candidate = store.get_run("latest")
        [v] = store.load_verdicts(candidate.id)
        linked = store.interleaved_baseline_of(candidate.id)
        assert linked is not None
        baseline = store.load_run(linked)
        trials = store.load_trials(candidate.id)
        assert store.history("steady") and linked not in {r["run_id"] for r in store.history("steady")}
    assert v.kind.value == "regressed" and v.ratio is not None and 1.6 < v.ratio < 2.6
    assert v.details["n_baseline"] >= 5 and v.details["n_candidate"] >= 5
    assert v.details["elapsed_s"] > 0 and v.details["trials_per_side"] >= 5  # time to the verdict, stored
    assert v.details["trial_statistic"] == "best"  # ci.trial_statistic's default
    # sub-millisecond rounds beside a trial's start and compile: later trials time the most rounds
    assert v.details["rounds_per_trial"] == 30 and "30 rounds each" in slow.stdout + slow.stderr
    # the evidence: the baseline commit's trial values as a linked run, both sides in trial order
    main_sha = subprocess.run(["git", "rev-parse", "main"], cwd=userproj, capture_output=True, text=True).stdout.strip()
    assert baseline.run.git.commit == main_sha and baseline.run.config["interleaved"]["candidate"] == candidate.id
    [case] = [c for c in baseline.cases if c.benchmark == "steady"]
    key = case.key
    assert baseline.run.config["interleaved"]["trial_statistic"] == "best"
    assert case.measures["time"].meta["mode"] == "interleaved trial values (best round)"
    assert case.measures["time"].samples == tuple(t.value for t in trials if t.case_key == key and t.arm == "A")
    assert v.details["n_baseline"] == len(case.measures["time"].samples)
    assert sum(1 for t in trials if t.case_key == key and t.arm == "B") == v.details["n_candidate"]
    assert candidate.finished_at is not None and baseline.run.finished_at is not None
    assert candidate.finished_at >= baseline.run.finished_at  # the run's time includes the trials
    listed = run_cli("calibrax", "runs", cwd=userproj)
    assert f"gated against {linked}" in listed.stdout and f"baseline trials of {candidate.id}" in listed.stdout
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=userproj, capture_output=True, text=True).stdout
    assert len(worktrees.strip().splitlines()) == 1  # the temporary worktree is gone
    assert "WORK = 2" in (userproj / "userbench.py").read_text()  # the user's checkout is untouched


def test_interleaved_gate_outside_git_is_a_config_error(userproj: Path) -> None:
    res = run_cli("calibrax-run", "suite=mine", "ci=interleaved", "ci.ref=main", *QUICK, cwd=userproj)
    assert res.returncode == 2 and "not inside a git checkout" in res.stderr


@pytest.mark.slow  # interleaved trials, beside other tests like the gate's
@pytest.mark.timeout(960)  # about 1.5 minutes on a quiet 2-core machine, over 5 on a loaded one
def test_bisect_finds_the_commit_that_slowed_a_benchmark(userproj: Path) -> None:
    (userproj / ".gitignore").write_text("calibrax.db*\noutputs/\nreports/\n")
    _git_repo(userproj)
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    shas = []
    for i in range(1, 4):
        if i == 2:
            _set_work(userproj, 2)
        (userproj / "NOTES.md").write_text(f"change {i}\n")
        subprocess.run(["git", "add", "-A"], cwd=userproj, check=True)
        subprocess.run(["git", *ident, "commit", "-q", "-m", f"change {i}"], cwd=userproj, check=True)
        shas.append(subprocess.run(["git", "rev-parse", "HEAD"], cwd=userproj, capture_output=True, text=True).stdout.strip())
    res = run_cli("calibrax", "bisect", "--good", "HEAD~2", "--bad", "HEAD", "--benchmark", "steady",
                  "--trials", "5", "--max-trials", "6", "--json", cwd=userproj, timeout=900)
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["first_bad"] == shas[1] and out["last_good"] == shas[0]
    assert [(s["older"], s["newer"]) for s in out["steps"]] == [(shas[0], shas[2]), (shas[0], shas[1])]  # no pair twice
    assert out["effect"]["verdict"] == "regressed" and out["effect"]["ratio"] > 1.5
    assert out["effect"]["ci_low"] > 1.05
    assert subprocess.run(["git", "status", "--porcelain"], cwd=userproj, capture_output=True, text=True).stdout == ""

    bad_ref = run_cli("calibrax", "bisect", "--good", "nope", "--bad", "HEAD", "--benchmark", "steady", cwd=userproj)
    assert bad_ref.returncode == 2 and "Git ref 'nope' names no commit" in bad_ref.stderr


def test_quality_metrics_are_stored_and_their_thresholds_gate(project: Path) -> None:
    ok = run_cli("calibrax-run", "suite=quality", *QUICK, cwd=project)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with Store.open(project / "calibrax.db") as store:
        [case] = store.load_run("latest").cases
    assert case.measures["accuracy"].samples[0] >= 0.9 and case.measures["accuracy"].measure.direction.value == "higher"
    assert case.measures["ece"].measure.direction.value == "lower" and "log_loss" in case.measures
    undertrained = run_cli("calibrax-run", "suite=quality", "params.nnx_classifier.steps=1", *QUICK, cwd=project)
    assert undertrained.returncode == 1, undertrained.stdout + undertrained.stderr
    assert "REGRESSED nnx_classifier" in undertrained.stdout and "below the minimum 0.9" in undertrained.stdout
