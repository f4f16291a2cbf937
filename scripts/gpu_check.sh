#!/usr/bin/env bash
# Run calibrax's GPU profilers for real on an NVIDIA machine and print what they measure.
#
#   scripts/gpu_check.sh            # uses .venv/bin/python when present, else python3
#
# Needs jax with CUDA (pip install "jax[cuda12]") and NVML (pip install calibrax[gpu]).
# Prints the hardware fingerprint, then one matmul case with the gpu, memory, energy, carbon,
# flops and roofline profilers (peaks of the named target given as $TARGET, default h100_sxm),
# then a traced case's top XLA ops (device time), and exits non-zero when a GPU measure that
# should exist on NVIDIA hardware is missing or the trace has no device ops.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
TARGET=${TARGET:-h100_sxm}
export XLA_PYTHON_CLIENT_PREALLOCATE=${XLA_PYTHON_CLIENT_PREALLOCATE:-false}

nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv
"$PY" - "$TARGET" <<'PY'
import json
import sys

from omegaconf import OmegaConf

from calibrax.profiling import ProfilingOptions, TimingProtocol, resolve_profilers
from calibrax.profiling.hardware import apply_platform, device_info, hardware_info, host_info
from calibrax.runner.catalog import package_conf_dir
from calibrax.runner.execute import load_benchmark, run_case

target = OmegaConf.to_container(OmegaConf.load(package_conf_dir() / "hardware" / f"{sys.argv[1]}.yaml"))
apply_platform("gpu")
device = device_info("gpu")
info = hardware_info(host_info(), device)
print("fingerprint", info.fingerprint, json.dumps(info.extra.get("gpu"), default=str))

names, _ = resolve_profilers(["gpu", "memory", "energy", "carbon", "flops", "roofline", "resources", "compilation"])
options = ProfilingOptions(profilers=names, peak_flops=target["peak_flops"], bandwidth=target["bandwidth"],
                           peak_source=f"hardware target {sys.argv[1]!r}")
spec = load_benchmark("matmul", str(package_conf_dir().parent / "benchmarks" / "core_ops.py"))
case = run_case(spec, {"n": 4096, "dtype": "float32"}, TimingProtocol(min_rounds=20, min_time=1.0), options)
print("status", case.status.value, case.error or "")
for name, m in sorted(case.measures.items()):
    s = sorted(m.samples)
    print(f"{name:<24} {s[len(s) // 2]:>14.6g} {m.measure.unit:<8} n={len(s)}")
print("unavailable", json.dumps(case.meta.get("unavailable", {}), indent=1))
print("profiler_errors", json.dumps(case.meta.get("profiler_errors", {}), indent=1))
print("gpu meta", json.dumps(case.meta.get("profiling", {}).get("gpu", {}), default=str))
expected = {"gpu_utilization", "gpu_power", "sm_clock", "gpu_memory_used", "device_peak_memory", "gpu_energy", "energy"}
missing = sorted(expected - set(case.measures))

import tempfile

traced = run_case(spec, {"n": 4096, "dtype": "float32"}, TimingProtocol(min_rounds=5, min_time=0.2),
                  ProfilingOptions(profilers=resolve_profilers(["tracing"])[0], trace_dir=tempfile.mkdtemp()))
trace = (traced.meta.get("artifacts") or {}).get("trace") or {}
summary = trace.get("summary") or {}
print("trace", trace.get("path"), "scope", summary.get("scope"))
for op in summary.get("ops", [])[:5]:
    print(f"  {op['op']:<40} x{op['count']:<4} {op['total_us']:>10.1f} us  {100 * op['share']:5.1f}%")
if summary.get("scope") != "device":
    missing.append("trace with device-scope ops")
if missing or case.status.value != "ok":
    print("MISSING on an NVIDIA machine:", missing)
    sys.exit(1)
print("GPU profilers OK")
PY
