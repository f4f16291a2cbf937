"""Run pytest on a suite the test wrote, with the calibrax plugin loaded as an install loads it."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def plugin_args() -> list[str]:
    """``-p calibrax.pytest_plugin`` unless the installed metadata already declares the entry point
    (then pytest loads it by itself, and loading it twice would be an error)."""
    installed = importlib.metadata.entry_points(group="pytest11", name="calibrax")
    return [] if installed else ["-p", "calibrax.pytest_plugin"]


def run_pytest(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``folder``, this checkout's calibrax first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1", "JAX_PLATFORMS": "cpu"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [sys.executable, "-m", "pytest", *plugin_args(), "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
