"""Numbers as text: SI times, values with their units, intervals and ratios (used by the
exporters and by the `calibrax` command alike).

The ``format_*`` helpers return plain text; escaping is the template's (Jinja2's autoescape,
or the ``md_*`` and ``tex`` filters).
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "format_interval", "format_ratio", "format_seconds", "format_value", "time_unit"]

MISSING = "—"
"""What a cell shows when there is no value."""

_TIME_UNITS: tuple[tuple[str, float], ...] = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
_BYTE_UNITS: tuple[str, ...] = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def time_unit(seconds: float) -> tuple[str, float]:
    """Return the SI unit (and its size in seconds) that shows ``seconds`` as 1 to 999.

    Example:
        >>> time_unit(0.0042)
        ('ms', 0.001)
    """
    magnitude = abs(seconds)
    if magnitude == 0:
        return _TIME_UNITS[0]
    for unit, scale in _TIME_UNITS:
        if magnitude >= scale:
            return unit, scale
    return _TIME_UNITS[-1]


def _significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, in plain (never exponent) notation."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


def format_seconds(seconds: float | None, unit: str | None = None) -> str:
    """Format a duration in seconds with an SI unit (ns, µs, ms, s) and 3 significant digits.

    Args:
        seconds: the duration; None or NaN gives the missing-value mark.
        unit: force this unit ("ns", "µs", "ms" or "s") instead of picking one.

    Raises:
        ValueError: ``unit`` is not one of those four.

    Example:
        >>> format_seconds(0.000001234)
        '1.23 µs'
        >>> format_seconds(0.9996)
        '1 s'
        >>> format_seconds(0.5, unit="ms")
        '500 ms'
    """
    if seconds is None or math.isnan(seconds):
        return MISSING
    if unit is None:
        unit, scale = time_unit(seconds)
        text = _significant(seconds / scale)
        # 999.7 µs rounds to 1000 µs: show it as 1 ms instead.
        if abs(float(text)) >= 1000 and unit != "s":
            unit, scale = _TIME_UNITS[[u for u, _ in _TIME_UNITS].index(unit) - 1]
            text = _significant(seconds / scale)
        return f"{text} {unit}"
    if unit in dict(_TIME_UNITS):
        return f"{_significant(seconds / dict(_TIME_UNITS)[unit])} {unit}"
    raise ValueError(f"unit must be one of ns, µs, ms or s, got {unit!r}.")


def format_interval(low: float | None, high: float | None, unit: str = "s") -> str:
    """Format a confidence interval ``[low, high]`` in one unit chosen from its upper end.

    Example:
        >>> format_interval(0.00121, 0.00135)
        '[1.21, 1.35] ms'
        >>> format_interval(2.0, 2.5, unit="FLOP")
        '[2, 2.5] FLOP'
    """
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return MISSING
    if unit == "s":
        name, scale = time_unit(max(abs(low), abs(high)))
        return f"[{_significant(low / scale)}, {_significant(high / scale)}] {name}"
    suffix = "" if unit == "1" else f" {unit}"
    return f"[{_significant(low, 4)}, {_significant(high, 4)}]{suffix}"


def format_value(value: float | None, unit: str) -> str:
    """Format a measured value with its unit: SI times, binary bytes, 4 digits otherwise.

    Example:
        >>> format_value(0.0025, "s")
        '2.5 ms'
        >>> format_value(3 * 2**20, "B")
        '3 MiB'
        >>> format_value(0.51234, "1")
        '0.5123'
    """
    if value is None or math.isnan(value):
        return MISSING
    if unit == "s":
        return format_seconds(value)
    if unit == "B":
        size, index = float(value), 0
        while abs(size) >= 1024 and index < len(_BYTE_UNITS) - 1:
            size, index = size / 1024, index + 1
        return f"{_significant(size)} {_BYTE_UNITS[index]}"
    if abs(value) >= 1e6 or (0 < abs(value) < 1e-3):
        text = f"{value:.3e}"
    else:
        text = _significant(value, 4)
    return text if unit == "1" else f"{text} {unit}"


def format_ratio(ratio: float | None) -> str:
    """Format a candidate/baseline ratio.

    Example:
        >>> format_ratio(1.2345)
        '1.23×'
    """
    if ratio is None or math.isnan(ratio):
        return MISSING
    return f"{ratio:.2f}×"
