"""The exporter protocol, the exporter registry, template rendering and ``export_all``.

An exporter turns one :class:`~calibrax.core.RunRecord` into the text of one file. Exporters
render records only: they never open the store, so the same record always gives the same file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from calibrax.core import ExporterError, Registry, RunRecord
from calibrax.core.protocols import Exporter
from calibrax.exporters import _format, _tex

__all__ = [
    "EXPORTERS",
    "ExportOutcome",
    "Exporter",
    "export_all",
    "get_exporter",
    "render_template",
    "report_settings",
    "template_dir_setting",
    "with_baseline",
]

_log = logging.getLogger(__name__)


EXPORTERS: Registry[Exporter] = Registry("exporter", "calibrax.exporters")
"""Every exporter by name; plugins add theirs through the ``calibrax.exporters`` entry points."""


def get_exporter(name: str) -> Exporter:
    """Return the exporter registered as ``name``.

    Raises:
        NotFoundError: no exporter has that name; the message lists close matches.

    Example:
        >>> get_exporter("markdown").filename
        'summary.md'
    """
    return EXPORTERS.get(name)


@dataclass(frozen=True)
class ExportOutcome:
    """What :func:`export_all` wrote and what it could not.

    Attributes:
        written: exporter name -> path of the file it wrote.
        failed: exporter name -> why it failed (exception type and message).
    """

    written: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every requested exporter wrote its file."""
        return not self.failed


def export_all(
    record: RunRecord,
    names: Sequence[str],
    out_dir: Path,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> ExportOutcome:
    """Render ``record`` with each named exporter and write the files into ``out_dir``.

    Names are resolved before anything is written, so a typo stops the export as a whole. After
    that, an exporter that raises is recorded in ``failed`` and the others still run: a broken
    report never hides the rest. Each file is written atomically (temporary file, then rename).

    Args:
        record: the run to export.
        names: registry names of the exporters, e.g. ``["html", "markdown"]``.
        out_dir: the folder to write into; created when missing.
        settings: exporter name -> that exporter's options (``template_dir``, ``title``).

    Returns:
        The files written and the failures, both keyed by exporter name.

    Raises:
        NotFoundError: a name is not a registered exporter.
        ExporterError: ``out_dir`` cannot be created.

    Example:
        >>> import tempfile
        >>> from calibrax.core import RunInfo, RunStatus
        >>> record = RunRecord(RunInfo(id="r1", started_at="", status=RunStatus.OK), cases=())
        >>> outcome = export_all(record, ["json"], Path(tempfile.mkdtemp()))
        >>> outcome.written["json"].name, outcome.failed
        ('run.json', {})
    """
    exporters = [(name, get_exporter(name)) for name in dict.fromkeys(names)]
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExporterError(
            f"Could not create the report folder {str(out_dir)!r}: {exc}. "
            "Choose a writable folder for the reports."
        ) from exc
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}
    for name, exporter in exporters:
        options = (settings or {}).get(name) or {}
        try:
            # an exporter that writes files of its own (the figures) is told the report folder
            render_into = getattr(exporter, "render_into", None)
            text = render_into(record, options, out_dir) if callable(render_into) else exporter.render(record, options)
            written[name] = _write_atomic(out_dir / exporter.filename, text)
        except Exception as exc:  # one broken exporter must not stop the others
            failed[name] = f"{type(exc).__name__}: {exc}"
            _log.warning("The %s exporter failed for run %s: %s", name, record.run.id, failed[name])
    return ExportOutcome(written=written, failed=failed)


def report_settings(
    record: RunRecord, name: str, baseline: RunRecord | None = None
) -> dict[str, Any]:
    """One exporter's settings for rendering a stored run again: the run's own, plus a baseline.

    The settings come from the run's stored config (``exporter.<name>``), so a report made
    later looks like the one made with the run; ``baseline`` (the run the verdicts compared
    with) is added under the ``baseline`` key when given.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> run = RunInfo(id="r1", started_at="", status=RunStatus.OK,
        ...               config={"exporter": {"latex": {"mode": "fragment"}}})
        >>> report_settings(RunRecord(run, ()), "latex")
        {'mode': 'fragment'}
    """
    stored = record.run.config.get("exporter") or {}
    settings = dict(stored.get(name) or {}) if isinstance(stored, Mapping) else {}
    if baseline is not None:
        settings["baseline"] = baseline
    return settings


def with_baseline(
    settings: Mapping[str, Mapping[str, Any]] | None, names: Sequence[str], baseline: RunRecord
) -> dict[str, dict[str, Any]]:
    """``settings`` for :func:`export_all` with ``baseline`` added to each named exporter's.

    Example:
        >>> from calibrax.core import RunInfo, RunStatus
        >>> base = RunRecord(RunInfo(id="b", started_at="", status=RunStatus.OK), ())
        >>> out = with_baseline({"html": {"title": "t"}}, ["html", "json"], base)
        >>> out["html"]["title"], out["json"]["baseline"].run.id
        ('t', 'b')
    """
    merged = {key: dict(value or {}) for key, value in (settings or {}).items()}
    for name in names:
        merged.setdefault(name, {})["baseline"] = baseline
    return merged


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so no reader sees half a report."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def template_dir_setting(settings: Mapping[str, Any]) -> Path | None:
    """Return the ``template_dir`` option of an exporter's settings, checked.

    Raises:
        ExporterError: the option is not a path, or names no folder.

    Example:
        >>> template_dir_setting({}) is None
        True
    """
    value = settings.get("template_dir")
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ExporterError(
            f"template_dir must be a folder path, got {value!r} ({type(value).__name__})."
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ExporterError(
            f"template_dir {str(value)!r} is not a folder. Give the folder that holds your "
            "overriding templates (e.g. report.html.j2 or summary.md.j2)."
        )
    return path


def render_template(name: str, template_dir: str | Path | None = None, **context: Any) -> str:
    """Render the template ``name`` with ``context``.

    Templates are looked up first in ``template_dir`` (when given), then among the templates
    shipped in ``calibrax/exporters/templates``. Autoescaping is on for ``.html.j2`` templates
    and off for ``.md.j2``; an undefined variable is an error, never an empty string. Templates
    get the filters ``seconds``, ``value(unit)``, ``ratio``, ``params``, ``md_code`` and
    ``md_text`` (Markdown cell escaping), ``tex`` (LaTeX escaping) and ``csp_hash`` (the CSP source of an inline script).

    Args:
        name: the template file name, e.g. ``"report.html.j2"``.
        template_dir: a folder of user templates that override the packaged ones.
        **context: the template's variables.

    Raises:
        jinja2.TemplateNotFound: neither folder has ``name``.
        jinja2.UndefinedError: the template reads a variable that ``context`` lacks.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "hello.md.j2").write_text("Hello {{ who }} & co")
        >>> render_template("hello.md.j2", folder, who="<you>")
        'Hello <you> & co'
    """
    key = str(Path(template_dir).resolve()) if template_dir is not None else None
    return _environment(key).get_template(name).render(**context)


@functools.lru_cache(maxsize=16)
def _environment(template_dir: str | None) -> jinja2.Environment:
    """One Jinja2 environment per user template folder (cached: compiling templates is slow)."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.FileSystemLoader(Path(__file__).parent / "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"),
            disabled_extensions=("md.j2", "tex.j2"),
            default=False,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        csp_hash=_csp_hash,
        file_uri=_file_uri,
        md_code=_format.markdown_code,
        md_text=_format.markdown_text,
        params=_format.format_params,
        ratio=_format.format_ratio,
        seconds=_format.format_seconds,
        tex=_tex.tex_escape,
        value=_format.format_value,
    )
    return env


def _file_uri(path: str) -> str:
    """A ``file:`` link to a local file (an absolute path), or the path itself when relative."""
    p = Path(str(path))
    return p.as_uri() if p.is_absolute() else urllib.parse.quote(str(path))


def _csp_hash(text: str) -> str:
    """The ``sha256-...`` source that lets exactly this inline script run under a CSP."""
    digest = hashlib.sha256(str(text).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
