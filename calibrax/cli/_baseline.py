"""``calibrax baseline set|list|rm``: name runs as baselines for ``check`` and ``ci=stored``."""

from __future__ import annotations

from pathlib import Path

import click

from calibrax.cli._common import CalibraxGroup, db_option, echo_json, echo_table, json_option, open_store

__all__ = ["baseline"]


@click.group(cls=CalibraxGroup)
def baseline() -> None:
    """Name runs as baselines for `calibrax check` and `ci=stored`.

    Example: calibrax baseline set main
    """


@baseline.command("set")
@click.argument("name")
@click.argument("run", default="latest")
@db_option
def baseline_set(name: str, run: str, db: Path) -> None:
    """Make RUN (default: latest) the baseline called NAME.

    Example: calibrax baseline set main latest
    """
    with open_store(db) as store:
        b = store.set_baseline(name, run)
    click.echo(f"Baseline {b.name!r} is run {b.run_id}.")


@baseline.command("list")
@db_option
@json_option
def baseline_list(db: Path, as_json: bool) -> None:
    """List the named baselines.

    Example: calibrax baseline list --json
    """
    with open_store(db, read_only=True) as store:
        found = store.list_baselines()
    if as_json:
        echo_json([{"name": b.name, "run_id": b.run_id, "created_at": b.created_at} for b in found])
        return
    echo_table([[b.name, b.run_id, b.created_at[:19]] for b in found], ["name", "run", "set at (UTC)"])


@baseline.command("rm")
@click.argument("name")
@db_option
def baseline_rm(name: str, db: Path) -> None:
    """Remove the baseline NAME (the run itself stays).

    Example: calibrax baseline rm main
    """
    with open_store(db) as store:
        store.remove_baseline(name)
    click.echo(f"Baseline {name!r} removed.")
