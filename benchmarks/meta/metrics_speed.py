"""How much faster calibrax's jitted metrics are than scikit-learn, and whether they agree.

Runs ``calibrax-run suite=metrics`` into a temporary store (or reads the latest run of an
existing store with ``--db``), then prints one row per metric: the median time per call of the
jitted calibrax metric (float32) and of scikit-learn (float64), the speed-up, and whether the
two values agree at rtol 1e-5 (both computed once here on the suite's seeded data).

Goal: calibrax at least 5x faster for the elementwise and classification metrics, with the
same values.

Run: ``.venv/bin/python benchmarks/meta/metrics_speed.py`` (about two minutes on 2 CPU cores),
or ``... --db calibrax.db`` after ``calibrax-run suite=metrics``. ``--size 100000`` and
``--profile quick`` make a faster, rougher run.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

from calibrax.core import CaseStatus
from calibrax.storage import Store

HERE = Path(__file__).resolve().parent
RTOL = 1e-5
GOAL = 5.0


def _suite_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("metric_speed_suite", HERE.parent / "metric_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_suite(db: Path, size: int, profile: str) -> None:
    """Run ``calibrax-run suite=metrics`` into ``db``; exit with its code if it fails."""
    cmd = [str(Path(sys.executable).parent / "calibrax-run"), "suite=metrics", f"store.path={db}", "exporters=[]",
           f"params.metric_speed.size={size}", f"profile={profile}"]
    print("$", " ".join(cmd), flush=True)
    res = subprocess.run(cmd, cwd=db.parent, capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stdout[-4000:], res.stderr[-4000:], sep="\n", file=sys.stderr)
        raise SystemExit(res.returncode)


def medians(db: Path) -> tuple[dict[tuple[str, str], float], int]:
    """Median seconds per call of every ok case of the latest run, by (metric, impl), and the size."""
    with Store.open(db) as store:
        record = store.load_run("latest")
    out, sizes = {}, set()
    for case in record.cases:
        if case.benchmark == "metric_speed" and case.status is CaseStatus.OK:
            summary = case.measures["time"].summary
            if summary is not None:
                out[(case.params["metric"], case.params["impl"])] = summary.median
                sizes.add(int(case.params["size"]))
    if len(sizes) != 1:
        raise SystemExit(f"The latest run of {db} has metric_speed cases of sizes {sorted(sizes)}; expected one size.")
    return out, sizes.pop()


def values(suite: ModuleType, metric: str, size: int) -> tuple[float, float]:
    """The calibrax (jitted, float32) and scikit-learn (float64) values on the suite's data."""
    p, t = suite.make_data(suite.PAIRS[metric].data, size)
    mine = float(suite.calibrax_function(metric)(p, t))
    p64 = p.astype(np.float64) if p.dtype.kind == "f" else p
    return mine, float(suite.sklearn_function(metric)(t, p64))


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="read the latest run of this store instead of running the suite")
    parser.add_argument("--size", type=int, default=1_000_000, help="elements per call (default 10^6)")
    parser.add_argument("--profile", default="standard", help="timing profile (quick, standard, rigorous)")
    args = parser.parse_args()
    suite = _suite_module()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "calibrax.db"
            run_suite(db, args.size, args.profile)
        times, size = medians(db)
    print(f"\nmetric_speed, {size:,} elements; median time per call; values compared at rtol {RTOL:g}\n")
    header = f"{'metric':<20} {'calibrax':>11} {'sklearn':>11} {'speed-up':>9}  {'goal':<6} {'values':<6} calibrax / sklearn value"
    print(header)
    print("-" * len(header))
    for metric in suite.PAIRS:
        mine, theirs = times.get((metric, "calibrax")), times.get((metric, "sklearn"))
        if mine is None and theirs is None:
            continue
        speedup = theirs / mine if mine and theirs else None
        v_mine, v_theirs = values(suite, metric, size)
        agree = bool(np.isclose(v_mine, v_theirs, rtol=RTOL, atol=0.0))
        goal = "-" if speedup is None else "ok" if speedup >= GOAL else "MISSED"
        ratio = f"{speedup:8.1f}x" if speedup is not None else f"{'-':>9}"
        print(f"{metric:<20} {_fmt(mine):>11} {_fmt(theirs):>11} {ratio}  {goal:<6} {'same' if agree else 'DIFFER':<6} "
              f"{v_mine:.9g} / {v_theirs:.9g}")


if __name__ == "__main__":
    main()
