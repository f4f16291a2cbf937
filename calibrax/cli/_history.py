"""``calibrax history``: a benchmark's stored history per case, with its changepoints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from calibrax.cli._common import db_option, echo_json, format_params, json_option, open_store, parse_params

if TYPE_CHECKING:
    from calibrax.analysis.changepoint import Method
    from calibrax.ci.history import BenchmarkHistory

__all__ = ["history"]


@click.command()
@click.argument("benchmark")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Only cases with these params.")
@click.option("--measure", default="time", show_default=True, help="The measure to follow.")
@click.option("--method", type=click.Choice(["binseg", "edivisive"]), default="binseg", show_default=True,
              help="Changepoint method.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Significance level.")
@db_option
@json_option
def history(benchmark: str, params: Sequence[str], measure: str, method: str, alpha: float, db: Path,
            as_json: bool) -> None:
    """A benchmark's stored history per case, with the changepoints found in it.

    Notes, exclusions and accepted shifts are listed under the runs they concern (``annotations``
    of each case with --json).

    Example: calibrax history matmul --param n=512
    """
    from calibrax.ci.history import benchmark_history

    wanted = parse_params(params)
    with open_store(db, read_only=True) as store:
        found = benchmark_history(store, benchmark, measure, wanted, method=cast("Method", method), alpha=alpha)
    if as_json:
        echo_json([case.to_dict() for case in found.cases])
        return
    _render(found)


def _render(found: BenchmarkHistory) -> None:
    from calibrax.core import format_seconds

    for case in found.cases:
        notes: dict[str, list[str]] = {}
        for a in case.annotations:
            notes.setdefault(a.run_id, []).append(f"[{a.kind}{'' if a.target == 'run' else ' ' + a.target}] {a.text}")
        click.echo(f"{found.benchmark} {format_params(case.params)}: {len(case.runs)} runs")
        marks = {c.index: c for c in case.changepoints}
        for i, r in enumerate(case.runs):
            cp = marks.get(i)
            mark = f"  <- changepoint {cp.relative_change:+.1%} (p={cp.p_value:.2g})" if cp else ""
            click.echo(f"  {r.started_at[:19]}  {(r.git_commit or '-')[:10]}  {format_seconds(r.median)}{mark}")
            for line in notes.get(r.run_id, ()):
                click.echo(f"      {line}")
        if case.note:
            click.echo(f"  ({case.note})")
    excluded = [a for a in found.annotations if a.kind == "exclude"]
    if excluded:
        click.echo(f"Left out: {len(excluded)} exclusions (" + "; ".join(f"{a.run_id} {a.target}: {a.text}"
                                                                         for a in excluded) + ")")
