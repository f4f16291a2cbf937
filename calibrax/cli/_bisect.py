"""``calibrax bisect``: find the first commit that made a benchmark slower."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from calibrax.cli._common import echo_json, exit_with, json_option, parse_params
from calibrax.core.exitcodes import ExitCode

if TYPE_CHECKING:
    from calibrax.ci.bisection import BisectResult, BisectStep

__all__ = ["bisect_cmd"]


@click.command("bisect")
@click.option("--good", required=True, help="A commit (ref or sha) where the benchmark was fast.")
@click.option("--bad", required=True, help="A later commit where it is slow.")
@click.option("--benchmark", "bench", required=True, help="The benchmark to measure at each commit.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Fix a param (repeatable), e.g. --param n=512.")
@click.option("--profile", default="quick", show_default=True, help="Timing protocol of each trial (conf/profile/).")
@click.option("--margin", type=click.FloatRange(min=0), default=0.05, show_default=True, help="Practical margin on time.")
@click.option("--trials", type=click.IntRange(min=5), default=10, show_default=True, help="Trials per side and comparison.")
@click.option("--max-trials", type=click.IntRange(min=5), default=30, show_default=True, help="Trials per side when undecided.")
@click.option("--trial-statistic", type=click.Choice(["best", "median"]), default="best", show_default=True,
              help="What each trial is judged by: its best round (the minimum time) or its median round.")
@json_option
def bisect_cmd(good: str, bad: str, bench: str, params: Sequence[str], profile: str, margin: float, trials: int,
               max_trials: int, trial_statistic: str, as_json: bool) -> None:
    """Find the first commit between --good and --bad that made a benchmark slower.

    Each commit is checked out in a temporary git worktree (your checkout is never touched) and
    measured against the good end in interleaved trials. Exit 0 when a first bad commit is
    found, 1 when the re-tested ends show no regression.

    Example: calibrax bisect --good v1.0 --bad HEAD --benchmark matmul --param n=512
    """
    from calibrax.ci import TrialStatistic
    from calibrax.runner.bisect import bisect_commits

    def show(step: BisectStep) -> None:
        v = step.verdict
        click.echo(f"  -> {step.newer[:12]} vs {step.older[:12]}: {v.kind.value.upper()} {v.message}", err=as_json)

    def progress(line: str) -> None:
        click.echo(line, err=as_json)  # with --json, stdout holds only the JSON document

    result = bisect_commits(Path.cwd(), good, bad, bench, params=parse_params(params), profile=profile,
                            margin=margin, trials=trials, max_trials=max_trials, on_step=show,
                            on_progress=progress, statistic=TrialStatistic(trial_statistic))
    _render(result, as_json)
    # 1 (no slowdown between the ends) shares its number with a regression: the documented contract
    exit_with(ExitCode.OK if result.first_bad else ExitCode.REGRESSION)


def _render(result: BisectResult, as_json: bool) -> None:
    from calibrax.core.result import verdict_to_dict

    if not as_json:
        click.echo(result.message)
        return
    echo_json({"first_bad": result.first_bad, "last_good": result.last_good, "message": result.message,
               "effect": verdict_to_dict(result.effect) if result.effect else None,
               "steps": [{"older": s.older, "newer": s.newer, "verdict": verdict_to_dict(s.verdict)}
                         for s in result.steps]})
