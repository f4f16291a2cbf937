"""Template rendering: the Jinja2 environments of the packaged and the user's templates.

Templates render records handed to them (rows, charts, the report input); they never open the
store. A user folder (an exporter's ``template_dir`` setting) overrides any packaged template.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from calibrax.exporters import _numbers, _tex, _text

__all__ = ["badge_span", "clean_controls", "render_template"]

# Control characters other than tab and newline: a terminal escape or a NUL in an error message
# must not reach a page (XML cannot hold them, and browsers show them as garbage).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f]")


def render_template(name: str, template_dir: str | Path | None = None, **context: Any) -> str:
    """Render the template ``name`` with ``context``.

    Templates are looked up first in ``template_dir`` (when given), then among the templates
    shipped in ``calibrax/exporters/templates``. Autoescaping is on for ``.html.j2`` templates
    and off for ``.md.j2``; an undefined variable is an error, never an empty string. Every
    value written by ``{{ ... }}`` has its control characters (other than tab and newline)
    replaced by U+FFFD, as :func:`clean_controls` does. Templates
    get the filters ``seconds``, ``value(unit)``, ``ratio``, ``params``, ``md_code`` and
    ``md_text`` (Markdown cell escaping), ``tex`` (LaTeX escaping), ``sort_key`` (a number as a
    table's sort key, 6 significant digits) and ``csp_hash`` (the CSP source of an inline script),
    and the function ``badge_span`` (:func:`badge_span`).

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
        finalize=clean_controls,
    )
    env.globals["badge_span"] = badge_span
    env.filters.update(
        csp_hash=_csp_hash,
        file_uri=_file_uri,
        md_code=_text.markdown_code,
        md_text=_text.markdown_text,
        params=_text.format_params,
        ratio=_numbers.format_ratio,
        seconds=_numbers.format_seconds,
        sort_key=_sort_key,
        tex=_tex.tex_escape,
        value=_numbers.format_value,
    )
    return env


def clean_controls(value: Any) -> Any:
    """``value`` with control characters other than tab and newline replaced by U+FFFD (as the
    JUnit exporter does for XML); values that are not text, and text without them, unchanged.
    Markup stays Markup.

    Example:
        >>> clean_controls("a" + chr(27) + "[31m") == "a" + chr(0xFFFD) + "[31m", clean_controls(3)
        (True, 3)
    """
    if not isinstance(value, str) or value.isprintable() or not _CONTROLS.search(value):
        return value
    cleaned = _CONTROLS.sub("\ufffd", value)
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


def badge_span(group: Any, value: Any) -> Markup:
    """A status badge, ``<span class="badge GROUP-VALUE">VALUE</span>``, with both texts cleaned
    and escaped as ``{{ ... }}`` writes them. The ``badge`` of ``_macros.html.j2``; a Python
    function, since the run report writes thousands of badges and a Jinja2 macro call costs
    tens of microseconds each.

    Example:
        >>> str(badge_span("status", "<ok>"))
        '<span class="badge status-&lt;ok&gt;">&lt;ok&gt;</span>'
    """
    kind, text = escape(clean_controls(group)), escape(clean_controls(value))
    return Markup(f'<span class="badge {kind}-{text}">{text}</span>')


def _sort_key(value: float | None) -> str:
    """A number as a table's sort key: 6 significant digits (finer than any shown value), or
    empty for a missing one."""
    if value is None:
        return ""
    return f"{value:.6g}"


def _file_uri(path: str) -> str:
    """A ``file:`` link to a local file (an absolute path), or the path itself when relative."""
    p = Path(str(path))
    return p.as_uri() if p.is_absolute() else urllib.parse.quote(str(path))


def _csp_hash(text: str) -> str:
    """The ``sha256-...`` source that lets exactly this inline script run under a CSP."""
    digest = hashlib.sha256(str(text).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
