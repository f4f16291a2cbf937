"""cli: the ``calibrax`` command group (output layer; the only place that exits)."""

from calibrax.cli.main import cli, main

__all__ = ["cli", "main"]
