"""Numbers as text for the exporters: the helpers live in :mod:`calibrax.core.formatting`, so the
``calibrax`` command formats a value without loading the exporters."""

from __future__ import annotations

from calibrax.core.formatting import MISSING, format_interval, format_ratio, format_seconds, format_value, time_unit

__all__ = ["MISSING", "format_interval", "format_ratio", "format_seconds", "format_value", "time_unit"]
