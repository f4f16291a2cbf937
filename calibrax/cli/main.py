"""``calibrax``: commands over the store. Each parses, calls one library function, renders.

This module only builds the group; each command family lives in its own module, all of them
on top of :mod:`calibrax.cli._common`. JAX is never imported at import time: the store
commands and ``--help`` stay fast.
"""

from __future__ import annotations

import click

from calibrax.cli._annotate import accept, annotate, exclude
from calibrax.cli._baseline import baseline
from calibrax.cli._bench import benchmarks
from calibrax.cli._bisect import bisect_cmd
from calibrax.cli._check import check, compare
from calibrax.cli._common import CalibraxGroup
from calibrax.cli._hardware import hardware
from calibrax.cli._history import history
from calibrax.cli._interop import export_cmd, import_cmd
from calibrax.cli._metrics import metrics_group
from calibrax.cli._monitor import monitor
from calibrax.cli._publish import publish_cmd
from calibrax.cli._report import report
from calibrax.cli._runs import runs, show
from calibrax.cli._sweep import ingest, sweep

__all__ = ["cli", "main"]


@click.group(cls=CalibraxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calibrax")
def cli() -> None:
    """calibrax: query, compare and report benchmark runs stored by calibrax-run.

    Example: calibrax show latest
    """


for _command in (runs, show, baseline, check, compare, report, history, ingest, sweep, bisect_cmd, benchmarks,
                 metrics_group, monitor, hardware):
    cli.add_command(_command)
cli.add_command(import_cmd)
cli.add_command(export_cmd)
for _command in (publish_cmd, annotate, exclude, accept):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``calibrax`` script."""
    cli(prog_name="calibrax")
