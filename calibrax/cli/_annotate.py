"""``calibrax annotate``, ``exclude`` and ``accept``: notes, exclusions and accepted shifts of runs."""

from __future__ import annotations

from pathlib import Path

import click

from calibrax.cli._common import db_option, open_store

__all__ = ["accept", "annotate", "exclude"]


@click.command()
@click.argument("run")
@click.option("--note", required=True, help="The note.")
@db_option
def annotate(run: str, note: str, db: Path) -> None:
    """Attach a note to a run; the dashboard and `calibrax history` show it.

    Example: calibrax annotate latest --note "new runner image"
    """
    with open_store(db) as store:
        made = store.annotate(run, note)
    click.echo(f"Noted run {made.run_id}: {made.text}")


@click.command()
@click.argument("run")
@click.option("--case", "case", metavar="BENCH[:PARAMS]",
              help='Only this benchmark\'s cases, or one case: matmul or matmul:n=64,dtype=float32.')
@click.option("--why", required=True, help="Why the results are left out.")
@db_option
def exclude(run: str, case: str | None, why: str, db: Path) -> None:
    """Leave a run (or one benchmark's cases in it) out of histories, changepoints and gates.

    The results stay in the store.

    Example: calibrax exclude 2f9c --case matmul:n=64 --why "thermal throttling"
    """
    benchmark, params = _parse_case(case)
    with open_store(db) as store:
        made = store.exclude(run, why, benchmark=benchmark, params=params)
    click.echo(f"Excluded {made.target} of run {made.run_id} from histories: {made.text}")


@click.command()
@click.argument("run")
@click.option("--case", "case", metavar="BENCH[:PARAMS]",
              help="Only this benchmark's cases, or one case: matmul or matmul:n=64,dtype=float32.")
@click.option("--measure", metavar="NAME", help="Only this measure (e.g. time, peak_rss).")
@click.option("--why", required=True, help="Why the shift is intended.")
@db_option
def accept(run: str, case: str | None, measure: str | None, why: str, db: Path) -> None:
    """Accept the shift a run starts: changepoints and history baselines restart at it.

    By default for every case and measure of the run; --case and --measure narrow it.

    Example: calibrax accept 2f9c --case matmul:n=64 --measure time --why "switched to the fused kernel"
    """
    benchmark, params = _parse_case(case)
    with open_store(db) as store:
        made = store.accept(run, why, benchmark=benchmark, params=params, measure=measure)
    named = [made.benchmark + (made.params_key or "")] if made.benchmark else []
    scope = " of " + " ".join([*named, *([made.measure] if made.measure else [])]) if named or made.measure else ""
    click.echo(f"Accepted the shift{scope} at run {made.run_id}: {made.text}")


def _parse_case(case: str | None) -> tuple[str | None, dict[str, object] | None]:
    """``BENCH`` or ``BENCH:k=v,k=v`` as a benchmark name and params (values read as YAML)."""
    from calibrax.cli._common import parse_params
    from calibrax.core.errors import ConfigError

    if case is None:
        return None, None
    name, sep, rest = case.partition(":")
    if not name:
        raise ConfigError(f"--case takes BENCH or BENCH:NAME=VALUE,... (e.g. matmul:n=64), got {case!r}.")
    if not sep:
        return name, None
    return name, parse_params([item for item in rest.split(",") if item] or [rest])
