"""``calibrax bisect``: find the commit that slowed a benchmark, in temporary worktrees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from calibrax.analysis import GatePolicy
from calibrax.ci import BisectResult, BisectStep, TrialStatistic, bisect, worst
from calibrax.core.benchmark import BENCHMARKS, expand_grid
from calibrax.core.errors import ConfigError
from calibrax.core.models import Verdict
from calibrax.core.registry import unknown_name_message
from calibrax.runner.catalog import config_dirs, discover_benchmarks
from calibrax.runner.config import ProfileConfig
from calibrax.runner.interleaved import Side, TrialSettings, case_refs, compare_folders
from calibrax.runner.plan import protocol_settings
from calibrax.runner.worktree import checkout, commits_between, git, resolve_commit

__all__ = ["bisect_commits", "load_profile"]



def load_profile(name: str, cwd: Path) -> ProfileConfig:
    """The fields of ``conf/profile/NAME.yaml`` (the user's ``./conf`` first), schema-checked.

    Raises:
        ConfigError: no such profile, or a file that does not fit the schema.
    """
    known: dict[str, Path] = {}
    for conf in reversed(config_dirs(cwd)):
        known.update({p.stem: p for p in sorted((conf / "profile").glob("*.yaml"))})
    if name not in known:
        raise ConfigError(unknown_name_message("profile", name, sorted(known)))
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ProfileConfig), OmegaConf.load(known[name]))
        profile = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"Profile {known[name]}: {str(exc).splitlines()[0]}") from None
    assert isinstance(profile, ProfileConfig)
    return profile


def _grid(benchmark: str, params: Mapping[str, Any], cwd: Path) -> list[dict[str, Any]]:
    catalog = discover_benchmarks(cwd)
    if benchmark in catalog:
        grid = dict(catalog[benchmark].params)
    elif benchmark in BENCHMARKS:
        grid = {k: list(v) for k, v in BENCHMARKS.get(benchmark).params.items()}
    else:
        raise ConfigError(unknown_name_message("benchmark", benchmark, sorted(set(catalog) | set(BENCHMARKS.names()))))
    unknown = sorted(set(params) - set(grid))
    if unknown and grid:
        raise ConfigError(f"Benchmark {benchmark!r} has no param(s) {unknown}; its params are: {', '.join(sorted(grid))}.")
    grid.update(params)
    return expand_grid(grid)


def bisect_commits(
    cwd: Path, good: str, bad: str, benchmark: str, *, params: Mapping[str, Any] | None = None,
    profile: str = "quick", margin: float = 0.05, trials: int = 10, max_trials: int = 30,
    platform: str | None = None, on_step: Callable[[BisectStep], None] | None = None,
    on_progress: Callable[[str], None] | None = None, statistic: TrialStatistic = TrialStatistic.best,
) -> BisectResult:
    """Bisect the first-parent commits from ``good`` to ``bad`` for a slowdown of ``benchmark``.

    ``on_progress`` hears a line before each comparison (``step 2/4: commit abc123 "subject"
    against def456``) and after each of its trials; ``on_step`` hears each verdict.

    Raises:
        ConfigError: not a git checkout, unknown refs, ``bad`` not after ``good``, unknown
            benchmark or param, or a bad profile.
    """
    good_sha, bad_sha = resolve_commit(cwd, good), resolve_commit(cwd, bad)
    between = commits_between(cwd, good_sha, bad_sha)
    if not between or between[-1] != bad_sha:
        raise ConfigError(f"{bad!r} is not a descendant of {good!r}: give --good an older commit than --bad.")
    points = _grid(benchmark, params or {}, cwd)
    policy = GatePolicy.from_config({"gate": ["time"], "measures": {"time": {"margin": margin}}})
    prof = load_profile(profile, cwd)
    settings = TrialSettings(protocol_settings(prof), platform, prof.case_timeout, prof.worker_start_timeout, statistic)
    refs = case_refs([(benchmark, points)], policy)

    def compare(older: str, newer: str) -> Verdict:
        with checkout(cwd, older) as a, checkout(cwd, newer) as b:
            result = compare_folders(Side.at(a), Side.at(b), refs, policy, settings, trials, max_trials,
                                     on_trial=(lambda line: on_progress(f"  {line}")) if on_progress else None)
        return worst(result.verdicts)

    def announce(number: int, expected: int, older: str, newer: str) -> None:
        if on_progress is not None:
            subject = git(cwd, "log", "-1", "--format=%s", newer)
            on_progress(f"step {number}/{expected}: commit {newer[:12]} \"{subject}\" against {older[:12]}")

    return bisect([good_sha, *between], compare, on_step, on_compare=announce)
