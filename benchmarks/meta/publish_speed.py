"""How fast ``calibrax publish`` is over a store of 10,000 runs x 100 cases, and how big its pages are.

Prints these figures against their goals:

- publish the whole store (1,000,000 case rows): under 20 s;
- publish again after one more run (100 new cases, every benchmark page changed): under 2 s;
- the index page (with its data file) under 1 MB; each benchmark page (with its data and base files)
  under 2 MB.

The store is generated with bulk inserts in one transaction (not timed): 10 benchmarks x 10
cases (params ``n`` and ``dtype``), two hardware fingerprints, per-run medians with noise and
95% CIs, a few planted level steps, and verdicts for the newest 500 runs. The extra run is
stored through :class:`calibrax.storage.Store` as ``calibrax-run`` would.

Run: ``.venv/bin/python benchmarks/meta/publish_speed.py [--runs 10000] [--keep DIR [--reuse]]``
(``--reuse`` publishes afresh from a store an earlier ``--keep`` left, skipping the generation).
Wall times depend on what else the machine runs; the CPU seconds of each publish are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from calibrax.core import (
    STANDARD_MEASURES,
    CaseResult,
    CaseStatus,
    GitInfo,
    HardwareInfo,
    MeasureResult,
    RunInfo,
    RunStatus,
)
from calibrax.core.models import canonical_params
from calibrax.dashboard import publish
from calibrax.statistics import summarize
from calibrax.storage import Store

BENCHMARKS = 10
CASES = [{"n": 2 ** (6 + k), "dtype": dtype} for k in range(5) for dtype in ("float32", "bfloat16")]
HARDWARE = tuple(HardwareInfo("cpu", "cpu", 1, f"CPU {name}", 16, 2**36, "Linux-x86_64", "3.11.7") for name in "AB")
STEPS = {(1, 3): (0.55, 1.18), (4, 0): (0.3, 1.25), (6, 7): (0.8, 0.85), (9, 5): (0.62, 1.12)}  # (bench, case): (at, x)


def generate(path: Path, runs: int, seed: int = 0) -> None:
    """A store of ``runs`` runs x 100 cases, written with executemany in one transaction."""
    Store.open(path).close()  # the current schema
    rng = np.random.default_rng(seed)
    base = np.exp(rng.uniform(np.log(2e-5), np.log(5e-2), (BENCHMARKS, len(CASES))))
    level = np.ones((runs, BENCHMARKS, len(CASES)))
    for (b, c), (at, factor) in STEPS.items():
        level[int(at * runs):, b, c] = factor
    noise = np.exp(rng.normal(0, 0.02, level.shape))
    median = base[None] * level * noise
    half = median * rng.uniform(0.005, 0.03, level.shape)
    run_ids = [f"{i:05d}-{h}" for i, h in enumerate(rng.integers(0, 16**8, runs).tolist())]
    shas = ["".join(f"{v:08x}" for v in rng.integers(0, 2**32, 5).tolist()) for _ in range(runs)]
    hardware = [HARDWARE[1] if i % 5 == 4 else HARDWARE[0] for i in range(runs)]
    t0 = np.datetime64("2025-01-01T00:00:00")
    started = [str(t0 + np.timedelta64(i * 3600, "s")) + "+00:00" for i in range(runs)]
    keys = [canonical_params(p) for p in CASES]
    params = [json.dumps(p) for p in CASES]
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("INSERT INTO hardware VALUES (?, ?, 'cpu', 'cpu', ?)",
                         [(h.fingerprint, json.dumps(asdict(h)), h.cpu_model) for h in HARDWARE])
        conn.executemany(
            "INSERT INTO runs (id, started_at, finished_at, status, git_commit, git_branch, git_dirty, hardware_id, "
            "hardware_info, created_at) VALUES (?, ?, ?, 'ok', ?, 'main', 0, ?, ?, ?)",
            [(run_ids[i], started[i], started[i], shas[i], hardware[i].fingerprint, json.dumps(asdict(hardware[i])),
              started[i]) for i in range(runs)])
        conn.executemany(
            "INSERT INTO cases (id, run_id, seq, benchmark, params, params_key, status, started_at, duration) "
            "VALUES (?, ?, ?, ?, ?, ?, 'ok', ?, 0.1)",
            ((i * 100 + b * 10 + c + 1, run_ids[i], b * 10 + c, f"bench_{b}", params[c], keys[c], started[i])
             for i in range(runs) for b in range(BENCHMARKS) for c in range(len(CASES))))
        flat_m, flat_h = median.reshape(runs, -1), half.reshape(runs, -1)
        conn.executemany(
            "INSERT INTO measures (case_id, name, unit, direction, n, median, mean, ci_low, ci_high, ci_level) "
            "VALUES (?, 'time', 's', 'lower', 50, ?, ?, ?, ?, 0.95)",
            ((i * 100 + k + 1, m, m, m - h, m + h) for i in range(runs)
             for k, m, h in zip(range(100), flat_m[i].tolist(), flat_h[i].tolist(), strict=True)))
        conn.executemany(
            "INSERT INTO verdicts (run_id, baseline_run_id, benchmark, params, measure, verdict, ratio, baseline, "
            "candidate, margin, message) VALUES (?, ?, ?, ?, 'time', ?, 1.0, 1.0, 1.0, 0.05, '')",
            ((run_ids[i], run_ids[0], f"bench_{b}", params[c], "regression" if level[i, b, c] > 1 else "pass")
             for i in range(max(0, runs - 500), runs) for b in range(BENCHMARKS) for c in range(len(CASES))))
    conn.close()


def add_run(path: Path, seed: int = 1) -> None:
    """One more run of every case on the latest run's hardware, near its medians, stored through
    the Store as calibrax-run stores it."""
    rng = np.random.default_rng(seed)
    with Store.open(path) as store:
        latest = store.get_run("latest")
        medians = {(b, key): m for _, _, _, b, key, m in store.recent_medians(latest.id, limit=1)}
        start = str(np.datetime64(latest.started_at[:19]) + np.timedelta64(3600, "s")) + "+00:00"
        run_id = f"extra-{len(store.runs_table())}"
        store.begin_run(RunInfo(run_id, start, RunStatus.RUNNING, GitInfo("f" * 40, "main", False), latest.hardware))
        for b in range(BENCHMARKS):
            for p in CASES:
                center = medians[(f"bench_{b}", canonical_params(p))]
                samples = tuple((center * np.exp(rng.normal(0, 0.02, 50))).tolist())
                measure = MeasureResult(STANDARD_MEASURES["time"], samples, summarize(samples), {})
                store.add_case(run_id, CaseResult(f"bench_{b}", p, CaseStatus.OK, {"time": measure}))
        store.finish_run(run_id, RunStatus.OK, start)


def _size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="Write the store and site here and keep them.")
    parser.add_argument("--reuse", action="store_true", help="With --keep: use the store already there (the site is "
                        "published afresh).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="publish_speed_"))
    folder.mkdir(parents=True, exist_ok=True)
    db, site = folder / "calibrax.db", folder / "site"
    t = time.perf_counter()
    if args.reuse and db.exists():
        shutil.rmtree(site, ignore_errors=True)
        with Store.open(db) as store:
            count = len(store.runs_table())
        print(f"reusing {db}: {count} runs ({db.stat().st_size / 1e6:.0f} MB); load average {os.getloadavg()[0]:.1f}")
    else:
        _generate_and_say(db, args.runs, t)
    cpu = time.process_time()
    with Store.open(db) as store:
        first = publish(store, site)
    cpu_first, cpu = time.process_time() - cpu, time.process_time()
    print(f"publish (cold):            {first.seconds:6.2f} s   goal < 20 s   "
          f"{'OK' if first.seconds < 20 else 'MISSED'}  ({len(first.written)} benchmark pages written; "
          f"{cpu_first:.2f} s of CPU)")
    add_run(db)
    bases = {p: p.stat().st_mtime_ns for p in site.glob("data/b/*.base-*.js")}
    cpu = time.process_time()
    with Store.open(db) as store:
        again = publish(store, site)
    cpu_again = time.process_time() - cpu
    newer = sum(p.stat().st_size for p in site.glob("data/b/*.js") if ".base-" not in p.name)
    rewritten = sum(bases.get(p) != p.stat().st_mtime_ns for p in site.glob("data/b/*.base-*.js"))
    print(f"re-publish after one run:  {again.seconds:6.2f} s   goal < 2 s    "
          f"{'OK' if again.seconds < 2 else 'MISSED'}  ({len(again.written)} pages written, {again.kept} kept; "
          f"{cpu_again:.2f} s of CPU; newer points {newer / 1e3:.0f} kB written, {rewritten} base files rewritten)")
    _report(db, site, args)


def _generate_and_say(db: Path, runs: int, t: float) -> None:
    generate(db, runs)
    print(f"generated {runs} runs x 100 cases ({runs * 100:,} case rows) in {time.perf_counter() - t:.1f} s;"
          f" store {db.stat().st_size / 1e6:.0f} MB; cpus available: {len(os.sched_getaffinity(0))};"
          f" load average {os.getloadavg()[0]:.1f}")


def _report(db: Path, site: Path, args: argparse.Namespace) -> None:
    with Store.open(db) as store:
        same = publish(store, site)
    print(f"re-publish, nothing new:   {same.seconds:6.2f} s   ({len(same.written)} pages written, {same.kept} kept)")
    index = _size(site / "index.html", site / "data" / "index.js")
    print(f"index page + data:         {index / 1e6:6.3f} MB  goal < 1 MB   {'OK' if index < 1e6 else 'MISSED'}")
    pages = sorted(site.glob("b/*.html"))
    sizes = [_size(p, site / "data" / "b" / f"{p.stem}.js", *site.glob(f"data/b/{p.stem}.base-*.js")) for p in pages]
    print(f"benchmark page + data:     {max(sizes) / 1e6:6.3f} MB  goal < 2 MB   {'OK' if max(sizes) < 2e6 else 'MISSED'}"
          f"  (largest of {len(pages)}; smallest {min(sizes) / 1e6:.3f} MB)")
    runs_js = (site / "data" / "runs.js").stat().st_size
    shared = _size(site / "data" / "site.js", site / "assets" / "dashboard.js", site / "assets" / "dashboard.css")
    print(f"shared by every benchmark page: runs table {runs_js / 1e6:.3f} MB, script+style+settings "
          f"{shared / 1e6:.3f} MB")
    print(f"regressions page data:     {(site / 'data' / 'regressions.js').stat().st_size / 1e3:.1f} kB, "
          f"feed {(site / 'regressions.xml').stat().st_size / 1e3:.1f} kB")
    print(f"load average now {os.getloadavg()[0]:.1f} (timings on a machine shared with other work are inflated)")
    print(f"site in {site}" if args.keep else f"(store and site in {site.parent}; pass --keep DIR to choose)")


if __name__ == "__main__":
    main()
