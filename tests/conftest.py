"""Shared fixtures: a temporary project folder and helpers to run the console scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def _share_compiled_programs() -> None:
    """One persistent JAX compilation cache for the whole test session.

    The tests start some seventy ``calibrax-run`` processes and their workers, most of which
    compile the same small programs (the shipped benchmarks, Flax NNX set-up, the eager
    operations of the metrics); on CPU compiling is most of what such a run does. Set here, at
    import, before JAX is imported: the xdist workers and every process a test starts inherit it.
    A test that needs a cold compile turns the cache off in its own process, as calibrax's cold
    measurement does. Set ``JAX_COMPILATION_CACHE_DIR`` yourself to keep a cache between sessions.
    """
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    import atexit
    import tempfile

    folder = tempfile.mkdtemp(prefix="calibrax-tests-jax-cache-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # the default (1 s) would keep none here
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"


_share_compiled_programs()


def _compile_quickly() -> None:
    """This test process's own JAX programs compiled with LLVM at -O0.

    Most of what the in-process tests do on CPU is compile: the metrics' eager operations
    alone are some two thousand small programs, about 90 ms each at XLA's default and 40 ms at
    -O0. The flag leaves XLA's HLO passes as they are (the cost analysis, fusion and buffer
    assignment calibrax reads); only the machine code is less optimised. The CPU backend reads
    ``XLA_FLAGS`` once, when it starts, so it starts here and the variable is put back: the
    ``calibrax-run`` processes the tests start compile as a user's do.
    """
    import jax

    saved = os.environ.get("XLA_FLAGS")
    os.environ["XLA_FLAGS"] = f"{saved or ''} --xla_backend_optimization_level=0".strip()
    try:
        jax.devices()
    finally:
        if saved is None:
            del os.environ["XLA_FLAGS"]
        else:
            os.environ["XLA_FLAGS"] = saved


_compile_quickly()

BIN = Path(sys.executable).parent


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
"""Headless Chromium with no network side-traffic (the Debian package; scripts/system-deps.sh)."""


QUICK = ["profile=quick", "exporters=[]"]
"""Overrides for end-to-end runs that only need a few samples and no report."""


LONGEST_FIRST = (
    "tests/e2e/test_slurm.py",  # waits on a SLURM node (make test runs it beside the others)
    "tests/e2e/test_e2e.py::test_bisect_finds_the_commit_that_slowed_a_benchmark",
    "tests/e2e/test_sweeps.py",
    "tests/e2e/test_e2e.py::test_default_suite_end_to_end",
    "tests/e2e/test_profilers_e2e.py",
    "tests/runner/test_orphans.py",  # the cold-compile test waits out its 60 s timeout
    "tests/runner/test_config_mistakes.py",
)
"""Node-id prefixes of the tests that took longest in ``make test`` (``--durations``), started first."""

COMPILE_FOR_OTHERS = ("tests/metrics/test_metrics_reference.py",)
"""Node-id prefixes of tests that compile the programs later tests reuse: the property tests
draw the reference rows' inputs (``metric_cases.SEEDS``), and run after these, their programs
come from the session's compilation cache (properties alone: 68 s with a cold cache, 47 s after
the reference tests)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the longest tests first: LONGEST_FIRST in its order, then the other ``slow`` ones, then
    COMPILE_FOR_OTHERS, then the rest.

    pytest-xdist hands tests out in collection order, so a long test collected last keeps one
    worker busy after the other has run out of work; started first, the long tests run side by
    side and the many short ones fill the gaps at the end. This needs ``--maxschedchunk=1``
    (make test passes it): otherwise xdist's first batch gives the whole front of the list,
    every long test, to the first worker. The order within each group stays as collected, and
    every worker sorts the same way, as xdist requires.
    """
    def rank(item: pytest.Item) -> int:
        for i, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        if item.get_closest_marker("slow") is not None:
            return len(LONGEST_FIRST)
        return len(LONGEST_FIRST) + 1 + (not item.nodeid.startswith(COMPILE_FOR_OTHERS))

    items.sort(key=rank)


@pytest.fixture
def userproj(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/userproj: a user project with its own conf/ and module, without
    what a run there by hand leaves behind (its store, outputs and reports)."""
    dest = tmp_path / "userproj"
    left_by_runs = shutil.ignore_patterns("calibrax.db*", "outputs", "multirun", "reports", "__pycache__")
    shutil.copytree(REPO / "tests" / "fixtures" / "userproj", dest, ignore=left_by_runs)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty folder to run calibrax-run and calibrax in, as a user would."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a console script (``calibrax-run`` or ``calibrax``) in ``cwd`` and capture it."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "0", **(env or {})}
    full_env.pop("CALIBRAX_DB", None)
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Remove benchmarks a test registers, so tests do not leak into each other."""
    from calibrax.core.benchmark import BENCHMARKS

    before = set(BENCHMARKS._members)
    yield
    for name in set(BENCHMARKS._members) - before:
        BENCHMARKS.unregister(name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium, driven by Playwright, shared by the report tests."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), "Chromium is missing: run scripts/system-deps.sh (make test does)."
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
