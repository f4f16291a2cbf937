#!/usr/bin/env bash
# The checks and tests as `make test` runs them (after the import contracts and ruff):
#  1. mypy, and tests/e2e/test_slurm.py in its own pytest process, beside part 2: the SLURM tests
#     spend most of their minute or so waiting on the node (a job has to outlive a one-minute
#     time limit), and in part 2 they would tie up a worker for as long as the node takes;
#  2. every other test not marked `serial`, on WORKERS pytest-xdist workers, longest first;
#  3. the `serial` tests (timings compared apart in time), alone on the machine, once 1 and 2 pass.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WORKERS=${WORKERS:-2}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# One persistent JAX compilation cache for all three parts (tests/conftest.py explains why).
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$logs/jax-cache}
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=${JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS:-0}
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=${JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES:-0}
"$PY" -m mypy > "$logs/mypy" 2>&1 &
mypy=$!
"$PY" -m pytest -p no:cacheprovider tests/e2e/test_slurm.py -m "not serial" > "$logs/slurm" 2>&1 &
slurm=$!

"$PY" -m pytest -n "$WORKERS" --maxschedchunk=1 -m "not serial" --ignore=tests/e2e/test_slurm.py --durations=30
parallel=$?
wait "$mypy"; mypy_rc=$?
wait "$slurm"; slurm_rc=$?
echo "== mypy (run beside the tests)"; cat "$logs/mypy"
echo "== tests/e2e/test_slurm.py (run beside the others)"; cat "$logs/slurm"
if [ "$parallel" -ne 0 ] || [ "$mypy_rc" -ne 0 ] || [ "$slurm_rc" -ne 0 ]; then
    echo "make test: failed (pytest-xdist part exit $parallel, mypy exit $mypy_rc, SLURM part exit $slurm_rc)" >&2
    exit 1
fi
# Only the files that mark tests `serial` are collected: collecting all of tests/ takes 15 s.
mapfile -t serial_files < <(grep -rlE "mark\.serial" tests --include="test_*.py")
"$PY" -m pytest -m serial --durations=10 "${serial_files[@]}"
