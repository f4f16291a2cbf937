"""statistics: summaries of samples (processing layer; imports only core)."""

from calibrax.statistics.analyzer import median_ci, summarize

__all__ = ["median_ci", "summarize"]
