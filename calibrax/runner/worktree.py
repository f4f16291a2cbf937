"""Git worktrees: another commit of the user's project, checked out beside it.

The user's own checkout is never touched: ``git worktree add --detach`` makes a separate
folder (removed afterwards) that shares the repository's objects.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from calibrax.core.errors import ConfigError

__all__ = ["checkout", "git", "repo_root", "resolve_commit", "commits_between"]


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout.

    Raises:
        ConfigError: git failed; the message carries git's own explanation.
    """
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"Cannot run git in {cwd}: {exc}.") from None
    if out.returncode != 0:
        raise ConfigError(f"git {' '.join(args)} failed in {cwd}: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout.strip()


def repo_root(cwd: Path) -> Path:
    """The top folder of the git checkout that holds ``cwd``.

    Raises:
        ConfigError: ``cwd`` is not inside a git checkout.
    """
    try:
        return Path(git(cwd, "rev-parse", "--show-toplevel"))
    except ConfigError:
        raise ConfigError(
            f"{cwd} is not inside a git checkout; the interleaved gate and bisect compare git commits. "
            "Run from your project's checkout, or use ci=stored with a named baseline."
        ) from None


def resolve_commit(cwd: Path, ref: str) -> str:
    """The full commit id of ``ref``.

    Raises:
        ConfigError: ``ref`` names no commit here.
    """
    try:
        return git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ConfigError:
        raise ConfigError(f"Git ref {ref!r} names no commit in {repo_root(cwd)}; check `git log` or `git branch -a`.") from None


def commits_between(cwd: Path, good: str, bad: str) -> list[str]:
    """Commits after ``good`` up to and including ``bad``, oldest first (first-parent line)."""
    listed = git(cwd, "rev-list", "--reverse", "--first-parent", f"{good}..{bad}")
    return listed.split() if listed else []


@contextmanager
def checkout(cwd: Path, commit: str) -> Iterator[Path]:
    """Yield the folder matching ``cwd`` inside a temporary worktree of ``commit``.

    Example:
        ``with checkout(Path.cwd(), "main") as old: ...`` gives ``old`` = this folder at main.
    """
    root = repo_root(cwd)
    inside = Path(cwd).resolve().relative_to(root.resolve())
    tmp = Path(tempfile.mkdtemp(prefix="calibrax-worktree-"))
    tree = tmp / "tree"
    git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        yield tree / inside
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
