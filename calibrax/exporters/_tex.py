"""LaTeX text helpers: escaping any text, and numbers in one unit per table column.

Only packages in every TeX distribution are assumed (the default OT1 font encoding, no siunitx),
so every character is written in a form plain ``pdflatex`` typesets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["ColumnScale", "column_scale", "format_number", "tex_escape"]

# Each special character as commands that work in the default OT1 encoding (no T1 fonts needed).
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\~{}",
    "^": r"\^{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r'\texttt{\string"}',  # a straight quote; OT1 roman has none
    "\n": " ",
    "\r": " ",
    "\t": " ",
    "µ": r"$\mu$",
    "μ": r"$\mu$",
    "×": r"$\times$",
    "±": r"$\pm$",
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
}


def _escape_char(char: str) -> str:
    known = _ESCAPES.get(char)
    if known is not None:
        return known
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return ""
    if code < 0x7F or 0xC0 <= code <= 0xFF and code not in (0xD7, 0xF7):
        return char  # ASCII and the accented Latin-1 letters pdflatex reads as UTF-8
    return rf"\texttt{{[U+{code:04X}]}}"


_TABLE = {chr(i): _escape_char(chr(i)) for i in range(0x100)} | _ESCAPES


def tex_escape(text: object) -> str:
    """Escape ``text`` so LaTeX prints it as is, on one line.

    The ten special characters (``\\ & % $ # _ { } ~ ^``), ``< > | "``, and ``--`` (which
    LaTeX would print as a dash) are escaped; a few typographic characters become their commands;
    any other character outside Latin-1 is written as its code point (``[U+2603]`` for a
    snowman), since pdflatex cannot typeset it without extra fonts.

    Example:
        >>> print(tex_escape("a_b & 50% ~$x^2$ {y} #1 \\\\"))
        a\\_b \\& 50\\% \\~{}\\$x\\^{}2\\$ \\{y\\} \\#1 \\textbackslash{}
        >>> print(tex_escape("<b>"))
        \\textless{}b\\textgreater{}
    """
    raw = str(text)
    if "--" in raw:  # LaTeX prints "--" as a dash; "-{}-" keeps two hyphens
        return "-{}".join(tex_escape(part) for part in raw.split("-"))
    table = _TABLE
    return "".join(table[c] if c in table else _escape_char(c) for c in raw)


_PREFIXES = {-3: "n", -2: r"$\mu$", -1: "m", 0: "", 1: "k", 2: "M", 3: "G", 4: "T", 5: "P"}


class ColumnScale:
    """One unit for a whole column: values are divided by ``scale`` and shown in ``unit``.

    Attributes:
        scale: what one shown unit is worth in the stored unit.
        unit: the column's unit as LaTeX (already escaped), e.g. ``ms`` or ``GFLOP/s``.
    """

    __slots__ = ("scale", "unit")

    def __init__(self, scale: float, unit: str) -> None:
        self.scale = scale
        self.unit = unit

    def __repr__(self) -> str:
        return f"ColumnScale({self.scale!r}, {self.unit!r})"


def column_scale(values: Sequence[float], unit: str) -> ColumnScale:
    """Choose the unit of a column so its largest value shows as 1 to 999.

    Seconds and other units get a decimal prefix (ms, GFLOP/s), bytes a binary one (MiB), and
    dimensionless values (unit ``1``) a power of ten in the header.

    Example:
        >>> column_scale([0.0012, 0.0153], "s")
        ColumnScale(0.001, 'ms')
        >>> column_scale([3 * 2**20], "B").unit
        'MiB'
        >>> column_scale([2.5e10], "FLOP/s").unit
        'GFLOP/s'
        >>> column_scale([0.004], "1").unit
        '$\\\\times 10^{-3}$'
    """
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    top = max(finite, default=1.0)
    if unit == "B":
        names = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
        index = 0
        while top >= 1024 and index < len(names) - 1:
            top, index = top / 1024, index + 1
        return ColumnScale(1024.0**index, names[index])
    power = max(-3, min(5, math.floor(math.log10(top) / 3)))
    if unit == "1":
        if power == 0:
            return ColumnScale(1.0, "")
        return ColumnScale(1000.0**power, rf"$\times 10^{{{3 * power}}}$")
    if unit == "s":
        power = min(power, 0)
    return ColumnScale(1000.0**power, _PREFIXES[power] + tex_escape(unit))


def format_number(value: float, digits: int = 3, decimals: int | None = None) -> str:
    """``value`` with ``digits`` significant digits (or fixed ``decimals``), as LaTeX text.

    Trailing zeros are kept: they are significant, and they keep a column's digits aligned.

    Example:
        >>> format_number(1.2)
        '1.20'
        >>> format_number(-0.5)
        '$-$0.500'
        >>> format_number(0.0123, decimals=2)
        '0.01'
    """
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else (r"$\infty$" if value > 0 else r"$-\infty$")
    if decimals is None:
        decimals = number_decimals(value, digits)
    text = f"{value:.{decimals}f}"
    return "$-$" + text[1:] if text.startswith("-") else text


def number_decimals(value: float, digits: int = 3) -> int:
    """How many decimals show ``value`` with ``digits`` significant digits.

    Example:
        >>> number_decimals(1.23456), number_decimals(123.4), number_decimals(0.00123)
        (2, 0, 5)
    """
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(value))))


__all__ += ["number_decimals"]
