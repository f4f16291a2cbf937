"""calibrax annotate / exclude / accept / publish, and calibrax history showing annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import add_run

from calibrax.cli import cli
from calibrax.storage import Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "calibrax.db"
    with Store.open(path) as store:
        for i, center in enumerate([1e-3, 1e-3, 3e-3]):
            add_run(store, f"run-{i}", center, f"{i:02d}")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_annotate_exclude_accept_store_what_they_say(db: Path) -> None:
    assert "Noted run run-0: image updated" in invoke("annotate", "run-0", "--note", "image updated", "--db",
                                                      str(db)).output
    out = invoke("exclude", "run-2", "--case", "matmul:n=128", "--why", "spike", "--db", str(db)).output
    assert 'Excluded matmul{"n": 128} of run run-2' in out
    assert "Excluded softmax of run run-1" in invoke("exclude", "run-1", "--case", "softmax", "--why", "broken",
                                                     "--db", str(db)).output
    assert "Accepted the shift at run run-2" in invoke("accept", "run-2", "--why", "intended", "--db", str(db)).output
    with Store.open(db) as store:
        made = [(a.kind, a.run_id, a.benchmark, a.params_key) for a in store.load_annotations()]
    assert made == [("note", "run-0", None, None), ("exclude", "run-2", "matmul", '{"n": 128}'),
                    ("exclude", "run-1", "softmax", None), ("accept", "run-2", None, None)]


def test_history_shows_annotations_and_leaves_excluded_runs_out(db: Path) -> None:
    invoke("annotate", "run-0", "--note", "image updated", "--db", str(db))
    invoke("exclude", "run-2", "--case", "matmul", "--why", "spike", "--db", str(db))
    out = invoke("history", "matmul", "--db", str(db)).output
    assert "matmul n=128: 2 runs" in out and "[note] image updated" in out
    assert "Left out: 1 exclusions (run-2 matmul: spike)" in out
    runs = json.loads(invoke("history", "matmul", "--db", str(db), "--json").output)[0]["runs"]
    assert [r["run_id"] for r in runs] == ["run-0", "run-1"]


def test_accept_of_one_case_and_measure_says_so_and_history_shows_it(db: Path) -> None:
    out = invoke("accept", "run-2", "--case", "matmul:n=128", "--measure", "time", "--why", "new kernel",
                 "--db", str(db)).output
    assert 'Accepted the shift of matmul{"n": 128} time at run run-2: new kernel' in out
    assert "Accepted the shift of compile_time at run run-1" in invoke(
        "accept", "run-1", "--measure", "compile_time", "--why", "compiler", "--db", str(db)).output
    text = invoke("history", "matmul", "--db", str(db)).output
    assert '[accept matmul{"n": 128} (time)] new kernel' in text and "compiler" not in text
    [case] = json.loads(invoke("history", "matmul", "--db", str(db), "--json").output)
    assert [(a["kind"], a["run_id"], a["measure"], a["target"]) for a in case["annotations"]] == [
        ("accept", "run-2", "time", 'matmul{"n": 128} (time)')]
    softmax = json.loads(invoke("history", "softmax", "--db", str(db), "--json").output)[0]
    assert softmax["annotations"] == []


@pytest.mark.parametrize(("args", "message"), [
    (["accept", "run-0", "--case", "conv", "--why", "x"], "its benchmarks are: matmul, softmax"),
    (["accept", "run-0", "--case", "matmul:n=7", "--why", "x"], 'its matmul cases have params {"n": 128}'),
    (["accept", "run-0", "--measure", "flops", "--why", "x"], "its measures are: compile_time, time"),
    (["accept", "run-0", "--case", "matmul:n", "--why", "x"], "NAME=VALUE"),
    (["exclude", "run-0", "--case", ":n=1", "--why", "x"], "--case takes BENCH or BENCH:NAME=VALUE"),
    (["exclude", "run-0", "--case", "matmul:n", "--why", "x"], "NAME=VALUE"),
    (["exclude", "run-0", "--case", "conv", "--why", "x"], "has no case of benchmark 'conv'"),
    (["accept", "nope", "--why", "x"], "No run matches 'nope'"),
    (["annotate", "run-0", "--note", " "], "needs a note"),
    (["publish", "--benchmark", "conv"], "conv"),
    (["publish", "--commit-url", "https://example.org/"], "{sha}"),
    (["publish", "--since", "yesterday"], "ISO date"),
])
def test_bad_input_is_one_error_line_and_exit_2(db: Path, tmp_path: Path, args: list[str], message: str) -> None:
    res = invoke(*args, "--db", str(db), *(["--out", str(tmp_path / "site")] if args[0] == "publish" else []))
    assert res.exit_code == 2 and res.output.startswith("Error: ") and message in res.output
    assert res.output.count("\n") == 1


def test_publish_writes_the_site_and_says_what_it_wrote(db: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    out = invoke("publish", "--out", str(site), "--db", str(db), "--commit-url",
                 "https://github.com/ORG/REPO/commit/{sha}").output
    assert "Published 2 benchmarks" in out and "(2 pages written, 0 unchanged)" in out
    assert (site / "index.html").is_file() and (site / "regressions.xml").is_file()
    assert len(list(site.glob("b/*.html"))) == 2
    assert "(0 pages written, 2 unchanged)" in invoke("publish", "--out", str(site), "--db", str(db)).output


def test_publish_of_a_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    res = invoke("publish", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "site"))
    assert res.exit_code == 2 and "No store at" in res.output
