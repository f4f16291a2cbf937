"""The interleaved gate's evidence: trial positions, the linked baseline run, and the CLI showing the link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import add_run

from calibrax.ci import CaseRef, InterleavedResult
from calibrax.cli.main import cli
from calibrax.core import STANDARD_MEASURES, CaseStatus, RunStatus, Verdict, VerdictKind
from calibrax.runner.evidence import INTERLEAVED_KEY, record_interleaved, trial_values
from calibrax.storage import Store

TIME = STANDARD_MEASURES["time"]
MM, SM = 'matmul{"n": 128}', 'softmax{"cols": 8}'
REFS = [CaseRef(MM, "matmul", {"n": 128}, (TIME,)), CaseRef(SM, "softmax", {"cols": 8}, (TIME,))]
SHA = "ab" * 20


def _result() -> InterleavedResult:
    """matmul decided after the first ABBA block of 2 per side, then extended by one block;
    softmax never measured on the baseline side (its benchmark is missing there)."""
    return InterleavedResult((), {
        MM: {"time": {"A": (1.0, 1.1, 1.2, 1.3), "B": (2.0, 2.1, 2.2, 2.3)}},
        SM: {"time": {"A": (), "B": (5.0, 5.1)}},
    }, tuple("ABBAABBA"))


def test_each_trial_median_gets_its_place_in_the_gates_order() -> None:
    placed = [(t.case_key, t.position, t.arm, t.value) for t in trial_values(_result())]
    assert [p for p in placed if p[0] == MM] == [
        (MM, 1, "A", 1.0), (MM, 2, "B", 2.0), (MM, 3, "B", 2.1), (MM, 4, "A", 1.1),
        (MM, 5, "A", 1.2), (MM, 6, "B", 2.2), (MM, 7, "B", 2.3), (MM, 8, "A", 1.3)]
    assert [p[1:] for p in placed if p[0] == SM] == [(2, "B", 5.0), (3, "B", 5.1)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "calibrax.db")
    add_run(store, "r0", 1e-3, "01")
    add_run(store, "cand", 2e-3, "02")
    return store


def test_the_baseline_side_is_stored_as_a_linked_run_of_its_trial_values(store: Store) -> None:
    linked = record_interleaved(store, "cand", "main", SHA, REFS, _result(), "2026-11-26T00:00:30+00:00",
                                {"trials": 2, "max_trials": 4})
    record = store.load_run(linked)
    assert record.run.git.commit == SHA and record.run.git.branch == "main"
    assert record.run.config[INTERLEAVED_KEY] == {"role": "baseline", "candidate": "cand", "ref": "main",
                                                  "commit": SHA, "order": "ABBAABBA", "trials": 2, "max_trials": 4}
    assert record.run.status is RunStatus.FAILED  # softmax had no baseline trial
    matmul, softmax = record.cases
    assert matmul.measures["time"].samples == (1.0, 1.1, 1.2, 1.3) and matmul.measures["time"].summary.n == 4
    assert softmax.status is CaseStatus.SKIPPED and "no trial of the baseline commit" in (softmax.error or "")
    assert record.run.hardware == store.get_run("cand").hardware
    assert len(store.load_trials("cand")) == 10
    assert store.get_run("latest").id == "cand" and store.interleaved_baseline_of("cand") == linked


def test_runs_and_show_make_the_link_visible_and_baseline_set_refuses_the_linked_run(store: Store) -> None:
    linked = record_interleaved(store, "cand", "main", SHA, REFS, _result(), "2026-11-26T00:00:30+00:00")
    db = str(store.path)
    runner = CliRunner()
    listed = runner.invoke(cli, ["runs", "--db", db])
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.output.splitlines()[1:]}
    assert lines["cand"].endswith(f"gated against {linked}") and lines[linked].endswith("baseline trials of cand")
    assert lines["r0"].endswith("-")
    listed_json = json.loads(runner.invoke(cli, ["runs", "--db", db, "--json"]).output)
    as_json = {r["id"]: r.get("interleaved") for r in listed_json}
    assert as_json == {"r0": None, "cand": {"role": "candidate", "run_id": linked},
                       linked: {"role": "baseline", "run_id": "cand"}}
    shown = runner.invoke(cli, ["show", linked, "--db", db])
    assert shown.exit_code == 0
    assert shown.output.startswith("Interleaved baseline of run cand: each sample is one trial")
    assert f"the baseline commit's trial values are run {linked}" in runner.invoke(cli, ["show", "--db", db]).output
    assert json.loads(runner.invoke(cli, ["show", "cand", "--db", db, "--json"]).output)["interleaved"] == {
        "role": "candidate", "run_id": linked}
    refused = runner.invoke(cli, ["baseline", "set", "main", linked, "--db", db])
    assert refused.exit_code == 2 and "Error: Run" in refused.output
    assert "holds the baseline side's trial values" in refused.output
    assert runner.invoke(cli, ["baseline", "set", "main", "--db", db]).exit_code == 0
    assert store.get_baseline("main").run_id == "cand"


def test_calibrax_report_of_a_gated_run_names_the_linked_run_and_draws_the_trials(tmp_path: Path) -> None:
    config = {"ci": {"mode": "interleaved", "ref": "main"},
              "thresholds": {"gate": ["time"], "measures": {"time": {"margin": 0.05, "alpha": 0.01}}}}
    with Store.open(tmp_path / "calibrax.db") as store:
        add_run(store, "gated", 2e-3, "03", config=config)
        linked = record_interleaved(store, "gated", "main", SHA, REFS, _result(), "2026-11-26T00:00:30+00:00")
        store.add_verdicts("gated", linked, [Verdict("matmul", {"n": 128}, "time", VerdictKind.REGRESSED, 1.9, 1.15,
                                                     2.15, 0.05, "worse beyond the 5% margin")])
    out = tmp_path / "report.html"
    res = CliRunner().invoke(cli, ["report", "gated", "--db", str(tmp_path / "calibrax.db"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert f"<dt>Baseline run_id</dt><dd><code>{linked}</code>" in page
    assert f"Interleaved gate against <code>main</code> (baseline trials: run <code>{linked}</code>)" in page
    assert "8 trials in the order measured" in page and "verdict regressed" in page
    assert '"t":[' in page and "baseline main (abababab" in page
