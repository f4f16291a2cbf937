"""What the pytest plugin costs a session that does not turn it on, and what timing a call adds.

    .venv/bin/python benchmarks/meta/pytest_plugin_cost.py             # about a minute on 2 cores
    .venv/bin/python benchmarks/meta/pytest_plugin_cost.py --repeats 9

Installed, the plugin loads in every pytest session (entry point ``pytest11``), so with the
plugin off its import must stay small. Part 1: the median wall time of ``python -c "import
pytest"`` against ``python -c "import pytest, calibrax.pytest_plugin"`` (fresh processes), and
whether JAX came in. Part 2: a one-test suite whose test calls ``calibrax(sum, [1, 2, 3])``, run
by pytest with the plugin off and on (``--calibrax-profile=quick``): the median wall time of the
whole session, the difference being what the first timed call costs a session (store, JAX
start for the hardware fingerprint, timing protocol).
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

ROOT = Path(__file__).resolve().parents[2]
SUITE = "def test_sum(calibrax):\n    assert calibrax(sum, [1, 2, 3]) == 6\n"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "JAX_PLATFORMS": "cpu", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _median_seconds(command: list[str], repeats: int, cwd: Path) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=_env(), check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = _median_seconds([sys.executable, "-c", "import pytest"], args.repeats, folder)
        loaded = _median_seconds([sys.executable, "-c", "import pytest, calibrax.pytest_plugin"], args.repeats, folder)
        probe = subprocess.run([sys.executable, "-c", "import sys, calibrax.pytest_plugin; print('jax' in sys.modules)"],
                               cwd=folder, env=_env(), capture_output=True, text=True, check=True).stdout.strip()
        print("Part 1: importing the plugin (the cost to every pytest session, plugin off)")
        print(f"  import pytest                          {bare * 1e3:8.0f} ms")
        print(f"  import pytest, calibrax.pytest_plugin  {loaded * 1e3:8.0f} ms  (+{(loaded - bare) * 1e3:.0f} ms; "
              f"JAX imported: {probe})")
        (folder / "test_one.py").write_text(SUITE)
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "calibrax.pytest_plugin", "-p", "no:cacheprovider"]
        off = _median_seconds(pytest_cmd, args.repeats, folder)
        on = _median_seconds([*pytest_cmd, "--calibrax", "--calibrax-profile=quick"], args.repeats, folder)
        print("Part 2: a one-test session, whole wall time")
        print(f"  plugin off                             {off * 1e3:8.0f} ms")
        print(f"  --calibrax --calibrax-profile=quick    {on * 1e3:8.0f} ms  (+{(on - off) * 1e3:.0f} ms)")
        print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} logical cores")


if __name__ == "__main__":
    main()
