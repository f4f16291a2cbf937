"""``calibrax check`` (a run against a baseline, the CI gate) and ``calibrax compare`` (runs side by side)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from calibrax.cli._common import db_option, echo_json, echo_table, exit_with, format_params, json_option, open_store
from calibrax.core.errors import ConfigError
from calibrax.core.exitcodes import ExitCode

if TYPE_CHECKING:
    from calibrax.analysis.comparison import Comparison
    from calibrax.ci.check import CheckedRun

__all__ = ["check", "compare"]


@click.command()
@click.argument("run", default="latest")
@click.option("--baseline", "baseline_name", required=True, help="The named baseline to compare with.")
@click.option("--margin", "margins", multiple=True, metavar="MEASURE=FRACTION",
              help="Override a margin, e.g. --margin time=0.1 (default: the run's thresholds config).")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--history", "history", type=click.IntRange(min=0), default=None, metavar="RUNS",
              help="Runs of the baseline's branch whose spread is learnt (default: the run's ci.history, 10; 0: off).")
@db_option
@json_option
def check(run: str, baseline_name: str, margins: Sequence[str], summary: Path | None, history: int | None, db: Path,
          as_json: bool) -> None:
    """Compare RUN (default: latest) with a baseline; exit 1 on a regression.

    Example: calibrax check --baseline main
    """
    from calibrax.ci.check import check_with_margins, noise_models

    overrides = _parse_margins(margins)
    with open_store(db) as store:
        checked = check_with_margins(store, run, baseline_name, overrides, history=history)
    if summary is not None:
        from calibrax.exporters import get_exporter

        text = get_exporter("markdown").render(checked.record, {})
        model = noise_models(checked.result.verdicts)
        summary.write_text(f"{text.rstrip()}\n\n_{model[:1].upper()}{model[1:]}._\n" if model else text,
                           encoding="utf-8")
    _render_check(checked, as_json)
    exit_with(ExitCode.REGRESSION if checked.result.regressions else ExitCode.OK)


def _parse_margins(values: Sequence[str]) -> dict[str, float]:
    """``--margin MEASURE=FRACTION`` options as a dict."""
    out = {}
    for item in values:
        measure, sep, fraction = item.partition("=")
        try:
            out[measure] = float(fraction)
        except ValueError:
            sep = ""
        if not sep or not measure:
            raise ConfigError(f"--margin takes MEASURE=FRACTION (e.g. time=0.1), got {item!r}.")
    return out


def _render_check(checked: CheckedRun, as_json: bool) -> None:
    from calibrax.ci.check import noise_models
    from calibrax.ci.guard import summary_lines
    from calibrax.core.result import verdict_to_dict

    result = checked.result
    if as_json:
        echo_json({"run_id": result.run_id, "baseline": result.baseline_name,
                   "baseline_run_id": result.baseline_run_id, "counts": result.counts,
                   "verdicts": [verdict_to_dict(v) for v in result.verdicts]})
        return
    for line in summary_lines(result):
        click.echo(line)
    model = noise_models(result.verdicts)
    if model:
        click.echo(model)


@click.command()
@click.argument("runs_", metavar="RUN_A RUN_B [RUN ...]", nargs=-1, required=True)
@click.option("--measure", "measures", multiple=True, help="Only these measures (repeatable; default: all).")
@db_option
@json_option
def compare(runs_: Sequence[str], measures: Sequence[str], db: Path, as_json: bool) -> None:
    """Put two or more runs side by side: speedups over the first run, with 95% CIs.

    Example: calibrax compare 20261126-101500-a1b2c3 latest --measure time
    """
    from calibrax.analysis.comparison import compare_runs

    if len(runs_) < 2:
        raise ConfigError(f"compare needs at least two runs, got {list(runs_)}; e.g. calibrax compare RUN_A latest.")
    with open_store(db, read_only=True) as store:
        records = [store.load_run(r) for r in runs_]
    result = compare_runs(records, 0, measures=list(measures) or None)
    run_ids = [r.run.id for r in records]
    if as_json:
        echo_json([{"benchmark": row.benchmark, "params": dict(row.params), "measure": row.measure.name,
                    "reference": row.reference, "best": row.best, "winner": row.winner, "note": row.note,
                    "runs": [vars(e) for e in row.entries],
                    "missing": [rid for rid in run_ids if rid not in {e.run_id for e in row.entries}]}
                   for row in result.rows])
        return
    _render_comparison(result, run_ids)


def _render_comparison(result: Comparison, run_ids: Sequence[str]) -> None:
    """One row per case and measure, one column per run; a run without the case reads ``missing``."""
    table = []
    for row in result.rows:
        by_run = {e.run_id: e for e in row.entries}
        cells = []
        for rid in run_ids:
            e = by_run.get(rid)
            if e is None:
                cells.append("missing")
            elif rid == row.reference:
                cells.append("ref")
            elif math.isfinite(e.ci_low) and math.isfinite(e.ci_high):
                cells.append(f"{e.speedup:.3g}x [{e.ci_low:.3g}, {e.ci_high:.3g}]")
            else:  # one sample per side: a ratio, but no interval to show
                cells.append(f"{e.speedup:.3g}x")
        table.append([row.benchmark, format_params(row.params), row.measure.name, *cells, row.winner or "-"])
    echo_table(table, ["benchmark", "params", "measure", *run_ids, "winner"])
