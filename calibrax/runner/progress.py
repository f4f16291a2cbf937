"""Progress of long work: ``[3/12]`` counters with elapsed time and an estimate of what is left.

Every counted line goes through the ``calibrax`` logger, so a CI log gets plain lines. On a
terminal a live rich bar is drawn under them as well (the log handlers that write to that
terminal print above the bar while it is shown).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["Counter", "SweepProgress", "format_duration", "live_bar"]

log = logging.getLogger("calibrax")


def format_duration(seconds: float) -> str:
    """A short human duration: ``42 s``, ``3 min 05 s``, ``1 h 02 min``.

    Example:
        >>> format_duration(185.2), format_duration(3725)
        ('3 min 05 s', '1 h 02 min')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class Counter:
    """Counts finished steps of a known total and says how long the rest should take.

    Example:
        >>> c = Counter(4, clock=iter([0.0, 10.0]).__next__)
        >>> c.step(), c.times()
        ('[1/4]', '10 s elapsed, about 30 s left')
    """

    def __init__(self, total: int, *, clock: Any = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self._clock = clock
        self._start = clock()

    def step(self) -> str:
        """Count one finished step; its ``[done/total]`` label."""
        self.done += 1
        return f"[{self.done}/{self.total}]"

    def times(self) -> str:
        """Time since the start and, while steps are left, an estimate of the rest."""
        elapsed = self._clock() - self._start
        text = f"{format_duration(elapsed)} elapsed"
        left = self.total - self.done
        if left > 0 and self.done:
            text += f", about {format_duration(elapsed / self.done * left)} left"
        return text


def _job_seconds(seconds: float) -> str:
    """A job's duration: tenths of a second under a minute (``4.2 s``), else :func:`format_duration`."""
    return f"{seconds:.1f} s" if seconds < 60 else format_duration(seconds)


class SweepProgress:
    """The progress lines of a ``-m`` sweep: one per finished job, counted against the sweep's
    size when it is known (``[3/12] job 2 (params.n=256) done in 4.2 s, about 38 s left``).

    Example:
        >>> p = SweepProgress(4, clock=iter([0.0, 0.0, 4.2]).__next__)
        >>> p.job_started()
        >>> p.job_ended(0, ["params.n=64", "sweep.resume=true"], 0)
        '[1/4] job 0 (params.n=64) done in 4.2 s, exit 0; 4.2 s elapsed, about 13 s left'
    """

    def __init__(self, total: int | None, *, clock: Any = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self._clock = clock
        self._start = clock()
        self._job_start: float | None = None

    def job_started(self) -> None:
        """Note the start of the next job."""
        self._job_start = self._clock()

    def job_ended(self, num: int, overrides: Sequence[str], exit_code: int | None) -> str:
        """Count a finished job and return its line (logged to ``calibrax`` too).

        Args:
            num: the job's number in the sweep (Hydra's ``job.num``).
            overrides: the job's overrides; ``sweep.*`` keys are left out of the line.
            exit_code: what the job's marker says it ended with (None: it did not finish).
        """
        now = self._clock()
        self.done += 1
        took = now - (self._job_start if self._job_start is not None else self._start)
        self._job_start = None
        what = " ".join(o for o in overrides if not o.lstrip("+~").startswith("sweep.")) or "no overrides"
        ended = (f"did not finish ({_job_seconds(took)})" if exit_code is None
                 else f"done in {_job_seconds(took)}, exit {exit_code}")
        count = f"[{self.done}/{self.total}]" if self.total else f"[{self.done}]"
        elapsed = now - self._start
        times = f"{_job_seconds(elapsed)} elapsed"
        if self.total and self.total > self.done:
            times += f", about {format_duration(elapsed / self.done * (self.total - self.done))} left"
        line = f"{count} job {num} ({what}) {ended}; {times}"
        log.info("%s", line)
        return line


def _terminal_handlers(stream: TextIO) -> list[logging.StreamHandler[Any]]:
    """The log handlers that write to a terminal (they would tear a live bar)."""
    found = []
    for logger in (logging.getLogger(), log):
        for handler in logger.handlers:
            target = getattr(handler, "stream", None)
            if isinstance(handler, logging.StreamHandler) and target is not None and _is_tty(target):
                found.append(handler)
    return found


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def live_bar(total: int, label: str, stream: TextIO | None = None) -> Iterator[Any]:
    """A live rich bar of ``total`` steps on a terminal; yields a callable ``advance(text)``.

    Off a terminal (a CI log, a pipe) it yields a no-op, and the counted log lines are all the
    progress there is. While the bar is shown, log handlers that write to the terminal print
    through rich's console, above the bar.
    """
    out = stream if stream is not None else sys.stderr
    if total <= 0 or not _is_tty(out):
        yield lambda text="": None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=out)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True,
                   redirect_stdout=True, redirect_stderr=True)
    task = bar.add_task(label, total=total)
    handlers = _terminal_handlers(out)
    with bar:
        before = [h.setStream(sys.stderr if _is_tty(h.stream) and h.stream is out else sys.stdout) for h in handlers]
        try:
            yield lambda text="": bar.update(task, advance=1, description=f"{label} {text}".strip())
        finally:
            for handler, old in zip(handlers, before, strict=True):
                if old is not None:
                    handler.setStream(old)
