"""The settings of each shipped exporter: one commented dataclass per exporter.

These dataclasses are the one place a setting's default lives. ``conf/exporter/<name>.yaml``
shows the same keys to users with the same values (a test checks that), and the runner's
``CalibraxConfig.exporter`` is typed with them, so an unknown key or a wrong type is a config
error before anything runs. They have no ``_target_``: Hydra never instantiates them; the
composed config becomes these objects through ``OmegaConf.to_object``.

An exporter receives its settings object (``settings_type``); a mapping given instead (a
stored run's ``exporter.<name>`` config) is turned into one by :func:`settings_from_mapping`.
Field types stay within what OmegaConf structured configs hold (no tuples, no ``Literal``);
allowed values are checked by each dataclass's ``check`` method, called by the exporter.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from calibrax.core import ExporterError

__all__ = [
    "FiguresSettings",
    "HtmlSettings",
    "JsonSettings",
    "JunitSettings",
    "LatexSettings",
    "MarkdownSettings",
    "MlflowSettings",
    "NoSettings",
    "WandbSettings",
    "settings_from_mapping",
    "template_folder",
]

S = TypeVar("S")


@dataclass
class NoSettings:
    """The settings of an exporter that has none (the default ``settings_type``)."""


@dataclass
class HtmlSettings:
    """``exporter.html``: the self-contained HTML report (``index.html``) and the sweep page."""

    title: str | None = None  # the page title; null: "calibrax run <id>" ("calibrax sweep <id>" for a sweep)
    template_dir: str | None = None  # a folder whose report.html.j2 / sweep.html.j2 replace the shipped ones
    history_runs: int = 30  # runs (>= 1) on the same hardware whose medians make each case's history chart
    pareto: list[str] | None = None  # the Pareto chart's two measures, e.g. [time, peak_rss]; null: time vs memory
    scaling_param: str | None = None  # draw scaling charts over this param only; null: every numeric param
    scaling_measure: str = "time"  # the measure of the scaling and history charts (a measure name)
    max_scaling_charts: int = 12  # the most scaling charts drawn (>= 0); a table lists every fit
    changepoint_alpha: float = 0.01  # significance level (0..1, BH over the splits) of marked changepoints
    changepoint_permutations: int = 499  # permutations per changepoint test (>= 99)
    n_resamples: int = 1999  # sweep page: bootstrap resamples of each speedup's CI (>= 99)

    def check(self) -> HtmlSettings:
        """Return ``self`` when every value is allowed.

        Raises:
            ExporterError: a value is out of range; the message names the setting.
        """
        pareto = self.pareto
        if pareto is not None and (isinstance(pareto, str) or len(pareto) != 2
                                   or not all(isinstance(m, str) for m in pareto)):
            raise ExporterError(f"pareto must name two measures, e.g. [time, peak_rss], got {pareto!r}.")
        param, measure = self.scaling_param, self.scaling_measure
        if (param is not None and not isinstance(param, str)) or not isinstance(measure, str) or not measure:
            raise ExporterError(f"scaling_param and scaling_measure must be names, got {param!r} and {measure!r}.")
        alpha = self.changepoint_alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise ExporterError(f"changepoint_alpha must be a significance level between 0 and 1, got {alpha!r}.")
        _whole(self.history_runs, "history_runs", 1)
        _whole(self.max_scaling_charts, "max_scaling_charts", 0)
        _whole(self.changepoint_permutations, "changepoint_permutations", 99)
        _whole(self.n_resamples, "n_resamples", 99)
        return self


@dataclass
class MarkdownSettings:
    """``exporter.markdown``: the Markdown summary (``summary.md``)."""

    template_dir: str | None = None  # a folder whose summary.md.j2 replaces the shipped template


@dataclass
class JsonSettings:
    """``exporter.json``: the run as JSON (``run.json``); it has no settings."""


@dataclass
class JunitSettings:
    """``exporter.junit``: JUnit XML (``junit.xml``) for CI test-result views."""

    suite_name: str = "calibrax"  # the name of the <testsuites> element
    measures: list[str] | None = None  # measures that get a test case; null: the run's thresholds.gate, else [time]


@dataclass
class LatexSettings:
    """``exporter.latex``: booktabs tables of the run (``report.tex``)."""

    mode: str = "standalone"  # standalone (an article pdflatex compiles) or fragment (tables to \input)
    measures: list[str] | None = None  # measure columns in order; null: every measure with a direction
    uncertainty: str = "pm"  # pm (median ± half the 95% CI width; median^{+a}_{-b} when asymmetric) or ci ([low, high])
    best: str = "column"  # bold a column's best among cases of one benchmark and the same sizes (column), all its cases (benchmark), or none
    split: str = "benchmark"  # benchmark: one table per benchmark, a column per param; none: one table for the run
    max_columns: int = 5  # measure columns per table at most; more go to a continued table (readable, never shrunk)
    environment: str = "auto"  # auto (longtable above 30 rows), table or longtable
    caption: str | None = None  # the table caption; null: the run, its hardware and how to read it
    label: str | None = None  # the \label of the table; null: tab:calibrax-<run id>
    title: str | None = None  # the standalone document's title; null: "calibrax run <id>"
    template_dir: str | None = None  # a folder whose report.tex.j2 replaces the shipped template

    def check(self) -> LatexSettings:
        """Return ``self`` when every value is allowed.

        Raises:
            ExporterError: a value is not one of its allowed ones; the message names the setting.
        """
        _one_of(self.mode, "mode", ("standalone", "fragment"))
        _one_of(self.uncertainty, "uncertainty", ("pm", "ci"))
        _one_of(self.best, "best", ("column", "benchmark", "none"))
        _one_of(self.environment, "environment", ("auto", "table", "longtable"))
        _one_of(self.split, "split", ("benchmark", "none"))
        if isinstance(self.max_columns, bool) or not isinstance(self.max_columns, int) or self.max_columns < 1:
            raise ExporterError(f"The latex exporter's max_columns setting must be a whole number of at least 1, "
                                f"got {self.max_columns!r}.")
        _names(self.measures, "latex")
        return self


@dataclass
class WandbSettings:
    """``exporter.wandb``: one Weights & Biases run per calibrax run (receipt ``wandb.json``)."""

    project: str = "calibrax"  # the W&B project
    entity: str | None = None  # team or user; null: your W&B default
    mode: str | None = None  # online, offline or disabled; null: $WANDB_MODE, else online with $WANDB_API_KEY, else offline
    dir: str | None = None  # folder for W&B's run folders; null: ./wandb
    tags: list[str] = field(default_factory=list)  # extra tags; the run status and backend are always added


@dataclass
class MlflowSettings:
    """``exporter.mlflow``: one MLflow run per calibrax run (receipt ``mlflow.json``)."""

    tracking_uri: str | None = None  # sqlite:////abs/mlflow.db, file:/abs/mlruns or http://host:5000; null: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    experiment: str = "calibrax"  # experiment name, created when missing
    artifact_location: str | None = None  # where a new experiment keeps artifacts; null: mlartifacts/ beside a sqlite store
    max_retries: int = 2  # HTTP retries against a tracking server (>= 0)
    timeout: int = 30  # seconds per HTTP request (>= 1)
    artifacts: list[str] = field(default_factory=lambda: ["html", "json"])  # exporters (file output) whose files are attached


@dataclass
class FiguresSettings:
    """``exporter.figures``: publication figures with matplotlib, in a folder (receipt ``figures.json``)."""

    dir: str = "figures"  # the figures folder, relative to the report folder (an absolute path is used as is)
    figures: list[str] = field(default_factory=lambda: ["scaling", "comparison", "roofline"])  # which figures to draw
    formats: list[str] = field(default_factory=lambda: ["pdf", "svg"])  # files per figure: pdf, svg, png
    measure: str = "time"  # the measure of the scaling and comparison figures
    scaling_param: str | None = None  # scaling over this param only; null: every numeric param with 3+ sizes
    max_scaling: int = 8  # the most scaling figures (>= 0)
    width: float = 3.4  # inches: one column of a two-column paper (7.0 for the full width)
    height: float = 2.4  # inches
    font_family: str = "serif"  # serif or sans-serif; text is drawn by matplotlib (no LaTeX needed)
    font_size: float = 8.0  # points, for labels; ticks and legends are a point smaller
    dpi: int = 300  # resolution of png files (>= 50)


def settings_from_mapping(settings_type: type[S], values: Mapping[str, Any] | None, exporter: str) -> S:
    """Build ``settings_type`` from a mapping (a stored run's settings), over the defaults.

    Raises:
        ExporterError: a key is not a field of ``settings_type``; the message names it and the
            allowed keys.

    Example:
        >>> settings_from_mapping(JunitSettings, {"suite_name": "ci"}, "junit").suite_name
        'ci'
    """
    known = [f.name for f in dataclasses.fields(settings_type)]  # type: ignore[arg-type]
    unknown = sorted(set(values or {}) - set(known))
    if unknown:
        allowed = ", ".join(known) or "(none)"
        raise ExporterError(f"The {exporter} exporter has no setting {unknown[0]!r}. Its settings are: {allowed}.")
    return settings_type(**dict(values or {}))


def template_folder(value: str | os.PathLike[str] | None) -> Path | None:
    """A ``template_dir`` setting as a folder, checked (None when not set).

    Raises:
        ExporterError: the value is not a path, or names no folder.

    Example:
        >>> template_folder(None) is None
        True
    """
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ExporterError(f"template_dir must be a folder path, got {value!r} ({type(value).__name__}).")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ExporterError(
            f"template_dir {str(value)!r} is not a folder. Give the folder that holds your "
            "overriding templates (e.g. report.html.j2 or summary.md.j2)."
        )
    return path


def _whole(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ExporterError(f"{name} must be a whole number >= {least}, got {value!r}.")
    return value


def _one_of(value: Any, name: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ExporterError(f"The latex exporter's {name} setting must be one of {', '.join(allowed)}; got {value!r}.")


def _names(value: Any, exporter: str) -> None:
    if value is not None and (isinstance(value, str) or not all(isinstance(n, str) for n in value)):
        raise ExporterError(
            f"The {exporter} exporter's measures setting must be a list of measure names such as "
            f"[time, compile_time], got {value!r}."
        )
