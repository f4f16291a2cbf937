"""What every ``calibrax`` command shares: the error-handling group, the common options, the
store opener and the renderers (JSON for programs, aligned tables for people).

This module imports no other ``calibrax.cli`` module, so every command module can import it
without a cycle; JAX is never imported here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from calibrax.core.errors import CalibraxError, ConfigError
from calibrax.core.exitcodes import ExitCode

if TYPE_CHECKING:
    from calibrax.storage import Store

__all__ = [
    "CalibraxGroup",
    "db_option",
    "echo_json",
    "echo_table",
    "exit_with",
    "format_params",
    "json_option",
    "open_store",
    "parse_params",
]

F = TypeVar("F", bound=Callable[..., Any])


class CalibraxGroup(click.Group):
    """A group that turns library errors into one ``Error: ...`` line and their exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CalibraxError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(int(exc.exit_code))


def exit_with(code: ExitCode) -> NoReturn:
    """End the command with ``code`` (the verdict of a check, a monitor or a bisect)."""
    sys.exit(int(code))


def db_option(fn: F) -> F:
    """``--db PATH``, defaulting to ``$CALIBRAX_DB`` or ``calibrax.db``."""
    return click.option(
        "--db",
        envvar="CALIBRAX_DB",
        default="calibrax.db",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The SQLite store (default: $CALIBRAX_DB, else ./calibrax.db).",
    )(fn)


def json_option(fn: F) -> F:
    """``--json``: print data for programs instead of text for people."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


def open_store(db: Path, *, read_only: bool = False) -> Store:
    """Open an existing store; a missing file is a usage error and is not created.

    Commands that only read pass ``read_only=True``: the file is then never written (no
    migration, no WAL switch, dead runs only read as interrupted), so they work on read-only
    files and folders and leave a store exactly as it was.

    Raises:
        ConfigError: there is no file at ``db``.
    """
    from calibrax.storage import Store

    if not db.exists():
        raise ConfigError(
            f"No store at {db}: run calibrax-run first, or point --db (or $CALIBRAX_DB) at an "
            "existing calibrax.db."
        )
    return Store.open(db, create=False, read_only=read_only)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (values JSON does not know are printed as text)."""
    click.echo(json.dumps(data, indent=2, default=str))


def echo_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns two spaces apart."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


def format_params(params: Mapping[str, Any]) -> str:
    """A case's params as ``k=v`` words, ``-`` when there are none.

    Example:
        >>> format_params({"n": 64, "dtype": "float32"})
        'n=64 dtype=float32'
    """
    return " ".join(f"{k}={v}" for k, v in params.items()) or "-"


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``--param NAME=VALUE`` options as a dict, each value read as YAML (``n=64`` is an int).

    Raises:
        ConfigError: an item without ``=`` or without a name.

    Example:
        >>> parse_params(["n=64", "dtype=float32"])
        {'n': 64, 'dtype': 'float32'}
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param takes NAME=VALUE (e.g. n=256), got {item!r}.")
        out[key] = yaml.safe_load(value)
    return out
