"""Progress of long work: counters, durations, trial and bisect step lines, the live bar."""

from __future__ import annotations

import io
import logging
import os
import select

from calibrax.ci.bisection import bisect, expected_steps
from calibrax.core import Direction, Measure, Verdict, VerdictKind
from calibrax.runner.interleaved import trial_progress
from calibrax.runner.progress import Counter, format_duration, live_bar


def test_counter_labels_each_step_and_estimates_the_rest() -> None:
    ticks = iter([0.0, 10.0, 30.0, 31.0])
    counter = Counter(3, clock=ticks.__next__)
    assert (counter.step(), counter.times()) == ("[1/3]", "10 s elapsed, about 20 s left")
    assert (counter.step(), counter.times()) == ("[2/3]", "30 s elapsed, about 15 s left")
    assert (counter.step(), counter.times()) == ("[3/3]", "31 s elapsed")


def test_durations_read_as_people_say_them() -> None:
    assert [format_duration(s) for s in (0.4, 59.6, 60, 185.2, 3725)] == ["0 s", "1 min 00 s", "1 min 00 s",
                                                                           "3 min 05 s", "1 h 02 min"]


def test_trial_lines_say_the_planned_total_and_what_may_follow() -> None:
    assert trial_progress(7, 10, 50, 5) == "trial 7/20 (+ up to 80 more while undecided), 5 s elapsed"
    assert trial_progress(20, 10, 10, 5) == "trial 20/20, 5 s elapsed"
    assert trial_progress(21, 10, 50, 5).startswith("trial 21 of at most 100 (extended while undecided)")


def _verdict(kind: VerdictKind) -> Verdict:
    return Verdict("b", {}, Measure("time", "s", Direction.LOWER), kind, 1.0, 1.0, 1.0, 0.05, message=kind.value)


def test_bisect_announces_each_comparison_before_measuring_it() -> None:
    commits = [f"c{i}" for i in range(9)]  # c5 is the first slow one
    heard: list[tuple[int, int, str, str]] = []
    measured: list[tuple[str, str]] = []

    def compare(older: str, newer: str) -> Verdict:
        assert heard[-1][2:] == (older, newer), "announced before it is measured"
        measured.append((older, newer))
        slow = int(newer[1:]) >= 5 and int(older[1:]) < 5
        return _verdict(VerdictKind.REGRESSED if slow else VerdictKind.PASS)

    result = bisect(commits, compare, on_compare=lambda *a: heard.append(a))
    assert result.first_bad == "c5"
    assert [h[0] for h in heard] == list(range(1, len(measured) + 1))
    assert heard[0][1] == expected_steps(9) == 5 and len(heard) == 5


def test_live_bar_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with live_bar(3, "cases", stream) as advance:
        advance("matmul")
    assert stream.getvalue() == ""


def test_live_bar_draws_on_a_terminal_and_routes_log_lines_above_it() -> None:
    master, slave = os.openpty()
    terminal = os.fdopen(slave, "w", encoding="utf-8")
    handler = logging.StreamHandler(terminal)
    logger = logging.getLogger("calibrax")
    logger.addHandler(handler)
    try:
        with live_bar(2, "cases", terminal) as advance:
            assert handler.stream is not terminal  # printed through the bar's console meanwhile
            logger.warning("a line above the bar")
            advance("matmul")
            advance("softmax")
        assert handler.stream is terminal
    finally:
        logger.removeHandler(handler)
        terminal.close()
    seen = b""
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "cases" in text and "a line above the bar" in text
