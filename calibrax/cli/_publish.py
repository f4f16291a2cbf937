"""``calibrax publish``: the static history dashboard of the whole store."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from calibrax.cli._common import db_option, open_store

__all__ = ["publish_cmd"]


@click.command("publish")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("site"), show_default=True,
              help="The site's folder.")
@click.option("--since", metavar="DATE", help="Only runs started on or after this ISO date.")
@click.option("--benchmark", "benchmarks", multiple=True, metavar="NAME", help="Only these benchmarks (repeatable).")
@click.option("--measure", default="time", show_default=True, help="The measure followed.")
@click.option("--commit-url", envvar="CALIBRAX_COMMIT_URL", metavar="TEMPLATE",
              help="Link of a commit, with {sha} (publish.commit_url; default: $CALIBRAX_COMMIT_URL).")
@click.option("--report-url", metavar="TEMPLATE", default="../reports/{run}/index.html", show_default=True,
              help="Link of a run's own report, relative to the site, with {run}.")
@click.option("--title", default="calibrax benchmarks", show_default=True, help="The site's title.")
@db_option
def publish_cmd(out: Path, since: str | None, benchmarks: Sequence[str], measure: str, commit_url: str | None,
                report_url: str, title: str, db: Path) -> None:
    """Write the static history dashboard (index, regressions, one page per benchmark).

    Re-publishing into the same folder rewrites only the pages whose results changed.

    Example: calibrax publish --out site --commit-url https://github.com/ORG/REPO/commit/{sha}
    """
    from calibrax.dashboard import publish

    with open_store(db, read_only=True) as store:  # reads only: no integrity pass over a large store
        result = publish(store, out, since=since, benchmarks=benchmarks, measure=measure, commit_url=commit_url,
                         report_url=report_url, title=title)
    click.echo(f"Published {result.benchmarks} benchmarks to {result.out}/index.html in {result.seconds:.2f} s "
               f"({len(result.written)} pages written, {result.kept} unchanged).")
