"""``calibrax``: commands over the store. Each parses, calls one library function, renders.

JAX is never imported here: the store commands and ``--help`` stay fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from calibrax.core.errors import CalibraxError, ConfigError
from calibrax.core.models import RunInfo
from calibrax.core.result import RunRecord, verdict_to_dict
from calibrax.exporters import format_seconds

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """A group that turns library errors into ``Error: ...`` and their exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CalibraxError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


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


def _open(db: Path) -> Any:
    from calibrax.storage import Store

    if not db.exists():
        raise ConfigError(
            f"No store at {db}: run calibrax-run first, or point --db (or $CALIBRAX_DB) at an "
            "existing calibrax.db."
        )
    return Store.open(db, create=False)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())




def _params(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "-"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calibrax")
def cli() -> None:
    """calibrax: query, compare and report benchmark runs stored by calibrax-run.

    Example: calibrax show latest
    """


@cli.command()
@db_option
@json_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show only the newest N runs.")
def runs(db: Path, as_json: bool, limit: int | None) -> None:
    """List stored runs, newest first.

    Example: calibrax runs --limit 5
    """
    from calibrax.core.result import run_info_to_dict

    with _open(db) as store:
        found: list[RunInfo] = store.list_runs(limit=limit)
    if as_json:
        _echo_json([{k: v for k, v in run_info_to_dict(r).items() if k != "config"} for r in found])
        return
    rows = [[r.id, r.status.value, r.started_at[:19], (r.git.commit or "-")[:10], r.sweep_id or "-"] for r in found]
    _table(rows, ["id", "status", "started (UTC)", "commit", "sweep"])


@cli.command()
@click.argument("run", default="latest")
@db_option
@json_option
@click.option("--no-samples", is_flag=True, help="Leave the raw samples out of --json.")
def show(run: str, db: Path, as_json: bool, no_samples: bool) -> None:
    """Show one run (an id, a unique id prefix, or 'latest') with its cases.

    Example: calibrax show latest --json
    """
    with _open(db) as store:
        record: RunRecord = store.load_run(run)
        checks, gate = store.load_validation(record.run.id)
        artifacts = store.load_artifacts(record.run.id)
    if as_json:
        _echo_json(record.to_dict(samples=not no_samples))
        return
    r = record.run
    click.echo(f"Run {r.id}  {r.status.value}  started {r.started_at[:19]}  commit {(r.git.commit or '-')[:10]}")
    if r.hardware is not None:
        click.echo(f"Hardware {r.hardware.backend}/{r.hardware.device_kind} x{r.hardware.device_count}, "
                   f"{r.hardware.cpu_model}, {r.hardware.cpu_count} cores ({r.hardware.fingerprint})")
    rows = []
    for c in record.cases:
        t = c.measures.get("time")
        s = t.summary if t is not None else None
        ci = f"[{format_seconds(s.ci_low)}, {format_seconds(s.ci_high)}]" if s else "-"
        comp = c.measures.get("compile_time")
        rows.append([c.benchmark, _params(c.params), c.status.value, format_seconds(s.median if s else None), ci,
                     str(s.n if s else 0), format_seconds(comp.samples[0] if comp and comp.samples else None)])
    _table(rows, ["benchmark", "params", "status", "time", "95% CI", "n", "compile"])
    if checks:
        failed = [c for c in checks if not c.passed]
        click.echo(f"Validation: {len(checks) - len(failed)} of {len(checks)} checks passed"
                   f"{' (gating)' if gate else ''}")
        for check in failed:
            click.echo(f"  VIOLATION {check.kind} {check.name}: {check.message}")
    for art in artifacts:
        case = record.cases[art.case_seq] if art.case_seq < len(record.cases) else None
        where = f"{case.benchmark} {_params(case.params)}" if case else f"case {art.case_seq}"
        click.echo(f"{art.name.capitalize()} of {where}: {art.path}")


@cli.group(cls=_Group)
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
    with _open(db) as store:
        b = store.set_baseline(name, run)
    click.echo(f"Baseline {b.name!r} is run {b.run_id}.")


@baseline.command("list")
@db_option
@json_option
def baseline_list(db: Path, as_json: bool) -> None:
    """List the named baselines.

    Example: calibrax baseline list --json
    """
    with _open(db) as store:
        found = store.list_baselines()
    if as_json:
        _echo_json([{"name": b.name, "run_id": b.run_id, "created_at": b.created_at} for b in found])
        return
    _table([[b.name, b.run_id, b.created_at[:19]] for b in found], ["name", "run", "set at (UTC)"])


@baseline.command("rm")
@click.argument("name")
@db_option
def baseline_rm(name: str, db: Path) -> None:
    """Remove the baseline NAME (the run itself stays).

    Example: calibrax baseline rm main
    """
    with _open(db) as store:
        store.remove_baseline(name)
    click.echo(f"Baseline {name!r} removed.")


def _margins(values: Sequence[str]) -> dict[str, float]:
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


@cli.command()
@click.argument("run", default="latest")
@click.option("--baseline", "baseline_name", required=True, help="The named baseline to compare with.")
@click.option("--margin", "margins", multiple=True, metavar="MEASURE=FRACTION",
              help="Override a margin, e.g. --margin time=0.1 (default: the run's thresholds config).")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).")
@db_option
@json_option
def check(run: str, baseline_name: str, margins: Sequence[str], summary: Path | None, db: Path, as_json: bool) -> None:
    """Compare RUN (default: latest) with a baseline; exit 1 on a regression.

    Example: calibrax check --baseline main
    """
    from dataclasses import replace

    from calibrax.ci.guard import check_run, policy_from_config, summary_lines
    from calibrax.exporters import get_exporter

    with _open(db) as store:
        policy = None
        if margins:
            config = dict(store.get_run(run).config)
            thresholds = dict(config.get("thresholds") or {})
            measures = {k: dict(v or {}) for k, v in (thresholds.get("measures") or {}).items()}
            for measure, margin in _margins(margins).items():
                measures[measure] = {**measures.get(measure, {}), "margin": margin}
            policy = policy_from_config({"thresholds": {**thresholds, "measures": measures}})
        result = check_run(store, run, baseline_name, policy)
        record = store.load_run(result.run_id)
    if summary is not None:
        record = replace(record, verdicts=result.verdicts,
                         baseline={"name": result.baseline_name, "run_id": result.baseline_run_id})
        summary.write_text(get_exporter("markdown").render(record, {}), encoding="utf-8")
    if as_json:
        _echo_json({"run_id": result.run_id, "baseline": result.baseline_name,
                    "baseline_run_id": result.baseline_run_id, "counts": result.counts,
                    "verdicts": [verdict_to_dict(v) for v in result.verdicts]})
    else:
        for line in summary_lines(result):
            click.echo(line)
    sys.exit(1 if result.regressions else 0)


@cli.command()
@click.argument("run", default="latest")
@click.option("--format", "fmt", default="html", show_default=True,
              help="An exporter: html, latex, markdown, junit, json, figures, wandb, mlflow.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output file, or folder for figures (default: reports/<run-id>/<exporter's file name>, "
                   "reports/sweep-<id>/ for --sweep).")
@click.option("--baseline", "baseline_name", default=None,
              help="The named baseline the run was checked against (default: the run's ci.baseline).")
@click.option("--sweep", "sweep_id", default=None,
              help="Render a whole sweep (an id or 'latest') instead of RUN: --format html or figures.")
@db_option
def report(run: str, fmt: str, out: Path | None, baseline_name: str | None, sweep_id: str | None, db: Path) -> None:
    """Render a stored run with one exporter, with the exporter settings the run was made with.

    When the run was checked (calibrax check, or calibrax-run ci=stored), its verdicts are
    shown and the HTML report draws the baseline's samples beside the run's. The HTML report
    also shows each case's history from the store (changepoints marked), the run's alerts and
    its validation checks. --format figures writes PDF and SVG figures into the folder --out.
    --sweep renders one page (or one set of figures) for every member run of a sweep.

    Example: calibrax report latest --format latex --out table.tex
    """
    from calibrax.exporters import get_exporter

    if sweep_id is not None:
        click.echo(str(_sweep_report_files(sweep_id, fmt, out, db)))
        return
    exporter = get_exporter(fmt)
    with _open(db) as store:
        record, settings = _report_inputs(store, run, fmt, baseline_name)
    if fmt == "figures":
        folder = out or Path("reports") / record.run.id
        receipt = exporter.render_into(record, {**settings, "dir": "."} if out else settings, folder)  # type: ignore[attr-defined]
        click.echo(json.loads(receipt)["folder"])
        return
    path = out or Path("reports") / record.run.id / exporter.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exporter.render(record, settings), encoding="utf-8")
    click.echo(str(path))


def _report_inputs(store: Any, run: str, fmt: str, baseline_name: str | None) -> tuple[RunRecord, dict[str, Any]]:
    """The run (with its verdicts) and the exporter's settings: the run's own, the baseline,
    and for HTML the stored history, alerts and validation."""
    from dataclasses import replace

    from calibrax.exporters import report_settings, with_report_data

    record = store.load_run(run)
    verdicts = store.load_verdicts(record.run.id)
    baseline = _checked_baseline(store, baseline_name, record.run.config) if verdicts else None
    if verdicts:
        names = {"name": baseline[0], "run_id": baseline[1].run.id} if baseline else {}
        record = replace(record, verdicts=tuple(verdicts), baseline=names)
    settings = report_settings(record, fmt, baseline[1] if baseline else None)
    if fmt == "html":
        settings = with_report_data(store, record, settings)
    return record, settings


def _sweep_report_files(sweep_id: str, fmt: str, out: Path | None, db: Path) -> Path:
    """Write a sweep's HTML page or figures; return the file or folder written."""
    from calibrax.exporters import report_settings, write_figures
    from calibrax.runner.sweep_report import sweep_folder, sweep_members, write_sweep_page

    if fmt not in ("html", "figures"):
        raise ConfigError(f"--sweep renders html or figures, got --format {fmt!r}. Use --format html or figures.")
    with _open(db) as store:
        if fmt == "html":
            return write_sweep_page(store, sweep_id, Path("reports"), out)
        resolved, _, records = sweep_members(store, sweep_id)
    target = out or sweep_folder(Path("reports"), resolved) / "figures"
    write_figures(records, target, report_settings(records[0], "figures"))
    return target


def _checked_baseline(store: Any, name: str | None, config: Mapping[str, Any]) -> tuple[str, RunRecord] | None:
    """The named baseline (``name``, else the run config's ``ci.baseline``) as a record.

    A name given on the command line must exist; the config's may have been removed since.
    """
    from calibrax.core.errors import NotFoundError

    if name:
        return name, store.load_run(store.get_baseline(name).run_id)
    name = (config.get("ci") or {}).get("baseline")
    if not name:
        return None
    try:
        return name, store.load_run(store.get_baseline(name).run_id)
    except NotFoundError:
        return None


@cli.group(cls=_Group)
def benchmarks() -> None:
    """The benchmarks calibrax-run can run here.

    Example: calibrax benchmarks list
    """


@benchmarks.command("list")
@json_option
def benchmarks_list(as_json: bool) -> None:
    """List benchmarks from conf/benchmark/ (yours in ./conf first) and plugins.

    Example: calibrax benchmarks list --json
    """
    from calibrax.core.benchmark import BENCHMARKS
    from calibrax.runner.catalog import discover_benchmarks

    catalog = discover_benchmarks()
    rows: list[dict[str, Any]] = [{"name": e.name, "source": e.source, "params": dict(e.params), "description": e.description,
             "config": str(e.config_file)} for e in catalog.values()]
    for name, spec in BENCHMARKS.items():
        if name not in catalog:
            rows.append({"name": name, "source": spec.definition_key, "description": spec.description,
                         "params": {k: list(v) for k, v in spec.params.items()}, "config": None})
    rows.sort(key=lambda r: r["name"])
    if as_json:
        _echo_json(rows)
        return
    _table([[r["name"], _params(r["params"]), r["description"]] for r in rows], ["name", "params", "description"])


@cli.command()
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
    with _open(db) as store:
        records = [store.load_run(r) for r in runs_]
    result = compare_runs(records, 0, measures=list(measures) or None)
    if as_json:
        _echo_json([{"benchmark": row.benchmark, "params": dict(row.params), "measure": row.measure.name,
                     "reference": row.reference, "best": row.best, "winner": row.winner, "note": row.note,
                     "runs": [vars(e) for e in row.entries]} for row in result.rows])
        return
    table = []
    for row in result.rows:
        cells = [f"{e.speedup:.3g}x [{e.ci_low:.3g}, {e.ci_high:.3g}]" if e.run_id != row.reference else "ref"
                 for e in row.entries]
        table.append([row.benchmark, _params(row.params), row.measure.name, *cells, row.winner or "-"])
    ids = [r.run.id for r in records]
    _table(table, ["benchmark", "params", "measure", *ids, "winner"])


@cli.command()
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

    Example: calibrax history matmul --param n=512
    """
    from calibrax.analysis.changepoint import HistoryPoint, detect_changepoints
    from calibrax.core.models import canonical_params

    with _open(db) as store:
        rows = store.history(benchmark, measure, _param_values(params))
    if not rows:
        raise ConfigError(f"No stored ok results of {benchmark!r} ({measure}) match; see calibrax benchmarks list and calibrax runs.")
    cases: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        cases.setdefault(canonical_params(row["params"]), []).append(row)
    out = []
    for case_rows in cases.values():
        points = [HistoryPoint(r["run_id"], float(r["median"]), r["git_commit"]) for r in case_rows]
        found = detect_changepoints(points, method=cast(Any, method), alpha=alpha) if len(points) >= 10 else None
        out.append({"params": case_rows[0]["params"], "runs": case_rows,
                    "changepoints": [vars(c) for c in found.changepoints] if found else [],
                    "note": None if found else f"{len(points)} runs: changepoints need at least 10"})
    if as_json:
        _echo_json(out)
        return
    for case in out:
        click.echo(f"{benchmark} {_params(case['params'])}: {len(case['runs'])} runs")
        marks = {c["index"]: c for c in case["changepoints"]}
        for i, r in enumerate(case["runs"]):
            mark = f"  <- changepoint {marks[i]['relative_change']:+.1%} (p={marks[i]['p_value']:.2g})" if i in marks else ""
            click.echo(f"  {r['started_at'][:19]}  {(r['git_commit'] or '-')[:10]}  {format_seconds(r['median'])}{mark}")
        if case["note"]:
            click.echo(f"  ({case['note']})")


@cli.command()
@click.argument("path", type=click.Path(exists=False, path_type=Path))
@db_option
@json_option
def ingest(path: Path, db: Path, as_json: bool) -> None:
    """Load spooled sweep results (store=spool) from PATH into the store; already stored runs are skipped.

    PATH is a sweep folder (multirun/DATE/TIME), one job's folder or one calibrax-result.json.
    A job that was killed before writing its result is loaded from its job store as interrupted.

    Example: calibrax ingest multirun/2026-11-26/10-00-00
    """
    from calibrax.runner.sweep import ingest_path
    from calibrax.storage import Store

    with Store.open(db) as store:
        added = ingest_path(store, path)
    if as_json:
        _echo_json({"ingested": added})
    else:
        click.echo(f"Loaded {len(added)} run(s) into {db}" + (f": {', '.join(added)}" if added else " (all were already stored)."))


@cli.command()
@click.argument("sweep_id", default="latest")
@db_option
@json_option
def sweep(sweep_id: str, db: Path, as_json: bool) -> None:
    """A sweep's report: its axes, every job, speedups across hardware, scaling fits.

    Example: calibrax sweep latest
    """
    from calibrax.runner.sweep_report import sweep_report

    with _open(db) as store:
        rep = sweep_report(store, sweep_id)
    if as_json:
        _echo_json({
            "sweep_id": rep.sweep_id, "axes": list(rep.axes), "warnings": list(rep.warnings),
            "jobs": [vars(j) for j in rep.jobs],
            "hardware": [{"benchmark": r.benchmark, "params": dict(r.params), "winner": r.winner,
                          "runs": [vars(e) for e in r.entries]} for r in rep.hardware.rows] if rep.hardware else [],
            "scaling": [{"benchmark": s.benchmark, "param": s.param, "fixed": dict(s.fixed),
                         "exponent": s.fit["b"].value, "ci": [s.fit["b"].ci_low, s.fit["b"].ci_high],
                         "r_squared": s.fit.r_squared} for s in rep.scaling],
        })
        return
    click.echo(f"Sweep {rep.sweep_id}: {len(rep.jobs)} job(s), axes: {', '.join(rep.axes) or '(none)'}")
    _table([[j.run_id, j.status, *(j.axes[a] for a in rep.axes), f"{j.cases_ok}/{j.cases}", j.reason or ""]
            for j in rep.jobs], ["run", "status", *rep.axes, "cases ok", "why not ok"])
    if rep.hardware:
        target = {j.run_id: j.axes.get("hardware", "") for j in rep.jobs}
        targets = list(dict.fromkeys(target[e.run_id] for r in rep.hardware.rows for e in r.entries))
        click.echo("\nSpeedup over the first hardware target (95% CI):")
        rows = []
        for r in rep.hardware.rows:
            cells = {target[e.run_id]: "ref" if e.ci_method == "reference" else
                     f"{e.speedup:.3g}x [{e.ci_low:.3g}, {e.ci_high:.3g}]" for e in r.entries}
            rows.append([r.benchmark, _params(r.params), *(cells.get(t, "-") for t in targets)])
        _table(rows, ["benchmark", "params", *targets])
    if rep.scaling:
        click.echo("\nScaling of time (power law, exponent with 95% CI):")
        _table([[s.benchmark, s.param, _params(s.fixed), f"{s.fit['b'].value:.3f} [{s.fit['b'].ci_low:.3f}, {s.fit['b'].ci_high:.3f}]",
                 f"{s.fit.r_squared:.3f}"] for s in rep.scaling], ["benchmark", "over", "fixed", "exponent", "R^2"])
    for w in rep.warnings:
        click.echo(f"Warning: {w}")


def _param_values(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param takes NAME=VALUE (e.g. n=256), got {item!r}.")
        out[key] = yaml.safe_load(value)
    return out


@cli.command("bisect")
@click.option("--good", required=True, help="A commit (ref or sha) where the benchmark was fast.")
@click.option("--bad", required=True, help="A later commit where it is slow.")
@click.option("--benchmark", "bench", required=True, help="The benchmark to measure at each commit.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Fix a param (repeatable), e.g. --param n=512.")
@click.option("--profile", default="quick", show_default=True, help="Timing protocol of each trial (conf/profile/).")
@click.option("--margin", type=click.FloatRange(min=0), default=0.05, show_default=True, help="Practical margin on time.")
@click.option("--trials", type=click.IntRange(min=5), default=10, show_default=True, help="Trials per side and comparison.")
@click.option("--max-trials", type=click.IntRange(min=5), default=30, show_default=True, help="Trials per side when undecided.")
@json_option
def bisect_cmd(good: str, bad: str, bench: str, params: Sequence[str], profile: str, margin: float, trials: int,
               max_trials: int, as_json: bool) -> None:
    """Find the first commit between --good and --bad that made a benchmark slower.

    Each commit is checked out in a temporary git worktree (your checkout is never touched) and
    measured against the good end in interleaved trials. Exit 0 when a first bad commit is
    found, 1 when the re-tested ends show no regression.

    Example: calibrax bisect --good v1.0 --bad HEAD --benchmark matmul --param n=512
    """
    from calibrax.core.result import verdict_to_dict
    from calibrax.runner.bisect import bisect_commits

    def show(step: Any) -> None:
        if not as_json:
            v = step.verdict
            click.echo(f"{step.newer[:12]} vs {step.older[:12]}: {v.kind.value.upper()} {v.message}")

    result = bisect_commits(Path.cwd(), good, bad, bench, params=_param_values(params), profile=profile,
                            margin=margin, trials=trials, max_trials=max_trials, on_step=show)
    if as_json:
        _echo_json({"first_bad": result.first_bad, "last_good": result.last_good, "message": result.message,
                    "effect": verdict_to_dict(result.effect) if result.effect else None,
                    "steps": [{"older": s.older, "newer": s.newer, "verdict": verdict_to_dict(s.verdict)} for s in result.steps]})
    else:
        click.echo(result.message)
    sys.exit(0 if result.first_bad else 1)


from calibrax.cli._hardware import hardware as _hardware  # noqa: E402  (JAX is imported inside the command)

cli.add_command(_hardware)


from calibrax.cli._monitor import monitor as _monitor  # noqa: E402  (JAX-free; helpers imported inside)

cli.add_command(_monitor)


from calibrax.cli._metrics import metrics_group  # noqa: E402

cli.add_command(metrics_group)


def main() -> None:
    """Entry point of the ``calibrax`` script."""
    cli(prog_name="calibrax")
