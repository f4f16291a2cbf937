"""Start-up time of the ``calibrax`` CLI beside a bare ``python -c pass``.

Each command is a fresh process; the commands run interleaved (one of each per round, the order
rotated every round) so that load on a shared machine hits them alike. Printed per command: the
median and best wall time over the rounds and the ratio of its median to ``python -c pass``'s.
The goal is ``calibrax --help`` and ``calibrax runs`` under 0.3 s here; the ratio says how much
of that is calibrax rather than the interpreter.

Run: ``.venv/bin/python benchmarks/meta/cli_startup.py [--rounds 15]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.3


def _store(folder: Path) -> Path:
    """A store with two small runs, made through the library (not timed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from factories import add_run

    from calibrax.storage import Store

    path = folder / "calibrax.db"
    with Store.open(path) as s:
        add_run(s, "run-a", 1e-3, "01")
        add_run(s, "run-b", 1e-3, "02")
        s.set_baseline("main", "run-a")
    return path


def _time(argv: list[str]) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {res.returncode}: {res.stderr.strip()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="fresh processes per command")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("calibrax"))
    with tempfile.TemporaryDirectory() as tmp:
        db = str(_store(Path(tmp)))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "calibrax --help": [cli, "--help"],
            "calibrax runs": [cli, "runs", "--db", db],
            "calibrax show latest": [cli, "show", "latest", "--db", db],
            "calibrax baseline list": [cli, "baseline", "list", "--db", db],
        }
        names = list(commands)
        for name in names:  # warm the file cache once, untimed
            _time(commands[name])
        times: dict[str, list[float]] = {n: [] for n in names}
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                times[name].append(_time(commands[name]))
    load = os.getloadavg()
    print(f"CLI start-up, {args.rounds} rounds interleaved, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    base = statistics.median(times["python -c pass"])
    print(f"  {'command':<24} {'median':>8} {'best':>8} {'x python':>9}  goal")
    for name in names:
        med, best = statistics.median(times[name]), min(times[name])
        goal = "" if name.startswith("python") or name not in ("calibrax --help", "calibrax runs") else (
            f"< {GOAL_S} s {'OK' if med < GOAL_S else 'MISSED'}")
        print(f"  {name:<24} {med:>7.3f}s {best:>7.3f}s {med / base:>8.1f}x  {goal}")


if __name__ == "__main__":
    main()
