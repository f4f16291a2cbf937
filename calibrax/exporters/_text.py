"""Names and texts as report cells: params as ``key=value``, an error's telling line, and
Markdown escaping (the template filters ``md_code`` and ``md_text``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["error_headline", "format_params", "markdown_code", "markdown_text"]


def format_params(params: Mapping[str, Any]) -> str:
    """Format a grid point as ``key=value`` pairs in their declared order.

    Example:
        >>> format_params({"n": 256, "dtype": "float32"})
        'n=256, dtype=float32'
    """
    return ", ".join(f"{key}={value}" for key, value in params.items())


def error_headline(text: str | None) -> str:
    """Return the most telling line of an error: the last non-empty line of a traceback.

    A Python traceback ends with the exception line; any other text starts with its summary.

    Example:
        >>> error_headline("Traceback (most recent call last):\\n  File ...\\nValueError: bad n")
        'ValueError: bad n'
        >>> error_headline("worker killed by signal 9\\nmore")
        'worker killed by signal 9'
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Traceback"):
        return lines[-1]
    return lines[0]


def _one_line(text: object) -> str:
    """``text`` with its lines joined by spaces (a table cell holds one line)."""
    return " ".join(str(text).splitlines())


def markdown_code(text: object, table: bool = True) -> str:
    """Render ``text`` as a Markdown code span, safe inside a table cell.

    A code span shows ``<``, ``*`` and ``_`` literally, so only newlines (joined by spaces),
    backticks (a longer fence) and, in a table, ``|`` (as ``\\|``) need care.

    Args:
        text: what to show; an empty text gives an empty string.
        table: escape ``|`` for a GFM table cell; leave it for text outside tables.

    Example:
        >>> print(markdown_code("a|b"))
        `a\\|b`
        >>> print(markdown_code("x `y`", table=False))
        `` x `y` ``
    """
    line = _one_line(text)
    if not line.strip():
        return ""
    if table:
        line = line.replace("|", "\\|")
    longest = _longest_backtick_run(line)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


_MARKDOWN_ESCAPES = {
    "\\": "\\\\",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "|": "\\|",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
}


def markdown_text(text: object) -> str:
    """Escape ``text`` for a Markdown table cell: one line, no markup, no HTML, no ``|``.

    Example:
        >>> print(markdown_text("a|b <i>*x*</i>"))
        a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt;
    """
    return "".join(_MARKDOWN_ESCAPES.get(char, char) for char in _one_line(text))
