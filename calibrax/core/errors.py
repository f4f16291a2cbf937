"""The one exception hierarchy of calibrax.

Every library error derives from :class:`CalibraxError`. Only the command-line layer turns
these into exit codes (see ``exit_code``); the library itself only raises and returns.
"""

from __future__ import annotations

from calibrax.core.exitcodes import ExitCode

__all__ = [
    "BenchmarkError",
    "CalibraxError",
    "ConfigError",
    "ExporterError",
    "HardwareUnavailableError",
    "NotFoundError",
    "StoreError",
]


class CalibraxError(Exception):
    """Base of every error that calibrax raises on purpose.

    Attributes:
        exit_code: the process exit code the CLI uses for this error (2: usage or config).
    """

    exit_code: int = ExitCode.USAGE


class ConfigError(CalibraxError):
    """Raised when a composed config names an unknown key, value or component."""


class NotFoundError(CalibraxError, LookupError):
    """Raised when a name (benchmark, exporter, run id, baseline) is not known."""


class StoreError(CalibraxError):
    """Raised when the store file cannot be opened, is not SQLite, or is damaged."""


class HardwareUnavailableError(CalibraxError):
    """Raised when the chosen hardware target is not present on this machine."""


class BenchmarkError(CalibraxError):
    """Raised when a benchmark's factory or source module cannot produce a Workload."""

    exit_code = ExitCode.BENCHMARK_FAILED


class ExporterError(CalibraxError):
    """Raised when an exporter cannot render or write its output."""
