"""The store commands start without the heavy libraries: scipy, JAX, matplotlib, pandas and numpy load
only where a command uses them (their start-up time is measured by benchmarks/meta/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from factories import add_run

from calibrax.storage import Store

HEAVY = ("scipy", "jax", "matplotlib", "pandas")
STORE_HEAVY = (*HEAVY, "numpy", "psutil")  # the store commands go without numpy and psutil too

_PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: print("LOADED=" + json.dumps(sorted(h for h in heavy if h in sys.modules)), file=sys.stderr))
sys.argv = ["calibrax", *{args!r}]
from calibrax.cli import main
main()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "calibrax.db"
    with Store.open(path) as s:
        add_run(s, "run-a", 1e-3, "01")
        add_run(s, "run-b", 1e-3, "02")
        s.set_baseline("main", "run-a")
    return path


@pytest.mark.parametrize("args", [["--help"], ["runs"], ["show", "latest"], ["baseline", "list"], ["check", "--help"],
                                  ["runs", "--json"]])
def test_store_commands_load_no_heavy_library(store: Path, args: list[str]) -> None:
    full = [*args, "--db", str(store)] if args[-1] != "--help" else args
    res = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=STORE_HEAVY, args=full)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    loaded = json.loads(res.stderr.rsplit("LOADED=", 1)[1].splitlines()[0])
    assert loaded == [], f"calibrax {' '.join(args)} imported {loaded}"


def test_calibrax_run_starts_without_scipy_jax_matplotlib_or_pandas() -> None:
    """calibrax-run's own process loads scipy where a verdict or fit needs it and JAX only in its
    workers, so every run starts about 2 s sooner."""
    probe = ("import json, sys; import calibrax.runner.app; "
             f"print(json.dumps(sorted(h for h in {HEAVY!r} if h in sys.modules)))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_numpy_imported_after_the_store_works_as_usual() -> None:
    probe = ("import calibrax.storage, numpy, pandas, sqlite_utils.db as d; "
             "print(numpy.arange(3).sum(), type(pandas.Timestamp(0)).__name__, d.np is None)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["3", "Timestamp", "True"]  # sqlite-utils went without it; nothing else did

