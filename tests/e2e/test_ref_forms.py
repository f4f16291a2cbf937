"""Every git ref form reaches calibrax unchanged through Hydra's command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli
from hydra.core.override_parser.overrides_parser import OverridesParser

from calibrax.runner.app import quote_git_refs
from calibrax.runner.worktree import resolve_commit

FORMS = ["HEAD~1", "HEAD^", "v1.2^", "origin/main", "main@{1}", "HEAD~1^{commit}", "it's"]


@pytest.mark.parametrize("ref", FORMS)
def test_hydra_reads_every_quoted_ref_verbatim(ref: str) -> None:
    [arg] = quote_git_refs([f"ci.ref={ref}"])
    [override] = OverridesParser.create().parse_overrides([arg])
    assert override.value() == ref


def test_plain_and_already_quoted_refs_are_left_alone() -> None:
    argv = ["ci.ref=main", "ci.ref=abc1234", "ci.ref='HEAD~2'", "thresholds.gate=[time]", "profile.rounds=3"]
    assert quote_git_refs(argv) == argv


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    for i in range(3):
        (work / "f.txt").write_text(str(i))
        _git(work, "add", "f.txt")
        _git(work, "commit", "-q", "-m", f"c{i}")
        if i == 1:
            _git(work, "tag", "v1.2")
    _git(work, "remote", "add", "origin", str(remote))
    _git(work, "push", "-q", "origin", "main")
    _git(work, "fetch", "-q", "origin")
    return work


@pytest.mark.parametrize(("ref", "rev"), [("HEAD~1", "HEAD~1"), ("origin/main", "HEAD"), ("v1.2^", "HEAD~2"),
                                          ("short", "HEAD~1")])
def test_each_ref_form_resolves_to_its_commit_after_hydra(repo: Path, ref: str, rev: str) -> None:
    if ref == "short":
        ref = _git(repo, "rev-parse", "--short", "HEAD~1")
    [override] = OverridesParser.create().parse_overrides(quote_git_refs([f"ci.ref={ref}"]))
    assert resolve_commit(repo, str(override.value())) == _git(repo, "rev-parse", rev)


def test_calibrax_run_takes_a_tilde_ref_and_names_one_that_does_not_resolve(repo: Path) -> None:
    # HEAD~9 has Hydra-hostile syntax and names no commit: calibrax's own message, exit 2, no lexer error.
    proc = run_cli("calibrax-run", "ci=interleaved", "ci.ref=HEAD~9", cwd=repo, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "HEAD~9" in proc.stderr and "Lexer" not in proc.stderr and "Traceback" not in proc.stderr

