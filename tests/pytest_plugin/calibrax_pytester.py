"""Run pytest on a suite the test wrote, with the calibrax plugin loaded by name.

Plugin autoloading is off in these sessions (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), so the
plugin loads from ``-p calibrax.pytest_plugin`` whether or not the installed metadata has the
entry point, the other installed plugins stay out, and xdist comes with ``-p xdist``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_pytest(folder: Path, *args: str, timeout: float = 300,
               env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -p calibrax.pytest_plugin ARGS`` in ``folder``, this checkout's calibrax first."""
    env = {**{k: v for k, v in os.environ.items() if k != "CALIBRAX_DB"}, **(env_extra or {}), "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1", "JAX_PLATFORMS": "cpu", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_PLUGINS"):
        env.pop(name, None)
    command = [sys.executable, "-m", "pytest", "-p", "calibrax.pytest_plugin", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
