#!/usr/bin/env bash
# Run calibrax's GPU profilers for real on an NVIDIA machine and print what they measure.
#
#   scripts/gpu_check.sh            # uses .venv/bin/python when present, else python3
#
# Needs jax with CUDA (pip install "jax[cuda12]") and NVML (pip install calibrax[gpu]).
# Prints the hardware fingerprint, then one matmul case with the gpu, memory, energy, carbon,
# flops and roofline profilers (peaks of the named target given as $TARGET, default h100_sxm),
# then a traced case's top XLA ops (device time). A second part checks the JAX-correct timing:
# a donated step with carry=True; wall vs device (trace) vs CUPTI time on a tiny op, a 16 Mi-float
# elementwise op and a bf16 matmul; hot vs cold caches for an 8 MB triad; the device timer and
# cold caches through run_case; a bf16 matmul sharded over every visible GPU with per-GPU memory
# and energy. It prints a table and exits non-zero when a measure that should exist on NVIDIA
# hardware is missing (each part runs even when the other failed).
#
#   GPU_CHECK_PLATFORM=cpu scripts/gpu_check.sh   # smoke-tests the second part's code on a CPU,
#                                                 # with small sizes (it then reports CUPTI missing)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
TARGET=${TARGET:-h100_sxm}
export XLA_PYTHON_CLIENT_PREALLOCATE=${XLA_PYTHON_CLIENT_PREALLOCATE:-false}

status=0
if [ "${GPU_CHECK_PLATFORM:-gpu}" = gpu ]; then
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv
"$PY" - "$TARGET" <<'PY' || status=1
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
print("unavailable", json.dumps(dict(case.unavailable), indent=1))
print("profiler_errors", json.dumps(dict(case.profiler_errors), indent=1))
print("gpu meta", json.dumps(case.meta.get("profiling", {}).get("gpu", {}), default=str))
expected = {"gpu_utilization", "gpu_power", "sm_clock", "gpu_memory_used", "device_peak_memory", "gpu_energy", "energy"}
missing = sorted(expected - set(case.measures))

import tempfile

traced = run_case(spec, {"n": 4096, "dtype": "float32"}, TimingProtocol(min_rounds=5, min_time=0.2),
                  ProfilingOptions(profilers=resolve_profilers(["tracing"])[0], trace_dir=tempfile.mkdtemp()))
trace = traced.artifacts.get("trace") or {}
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
fi

echo
echo "== JAX-correct timing: donation, device time, CUPTI, cold caches, several GPUs =="
"$PY" - <<'PY' || status=1
import json
import os
import statistics
import sys
import time
import traceback
from types import SimpleNamespace

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

import calibrax
from calibrax.profiling import ProfilingOptions, TimingProtocol, resolve_profilers
from calibrax.profiling.cache import CacheFlusher, cache_info
from calibrax.profiling.devicetime import device_measures
from calibrax.runner.execute import load_benchmark, run_case

rows: list[tuple[str, str, str]] = []  # (check, what, value)
missing: list[str] = []


def need(ok: bool, what: str) -> None:
    if not ok:
        missing.append(what)


def med(samples) -> float:
    return statistics.median(samples)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us"


ON_GPU = os.environ.get("GPU_CHECK_PLATFORM", "gpu") == "gpu"
N = 4096 if ON_GPU else 256  # donated step, run_case matmul
N_MM = 8192 if ON_GPU else 512  # bf16 matmuls
gpus = jax.devices("gpu") if ON_GPU else jax.devices()
print("devices", [f"{d} {d.device_kind}" for d in gpus])
need(bool(gpus), "a JAX GPU device")

# 1. A donated step, carried from call to call.
@calibrax.benchmark("gpu_check_donated_step", params={"n": [N]})
def donated_step(n: int) -> calibrax.Workload:
    step = jax.jit(lambda w: w * 0.99 + 0.01, donate_argnums=0)
    return calibrax.Workload(step, args=(jnp.ones((n, n), jnp.float32),), carry=True)


try:
    case = run_case(load_benchmark("gpu_check_donated_step", None), {"n": N},
                    TimingProtocol(min_rounds=50, min_time=0.0, warmup_time=0.0))
    print("donated step", case.status.value, (case.error or "")[-400:])
    need(case.status.value == "ok" and "time" in case.measures, "donated carry step: time")
    if "time" in case.measures:
        rows.append(("donated carry step", f"time ({N}^2 f32, 50 rounds)", us(med(case.measures["time"].samples))))
except Exception:
    traceback.print_exc()
    missing.append("donated carry step (exception)")

# 2. Wall vs device (trace) vs CUPTI.
key = jax.random.key(0)
x8 = jnp.ones(8, jnp.float32)
v16 = jax.random.normal(key, (16 * 2**20,), jnp.float32)
mb = jax.random.normal(key, (N_MM, N_MM), jnp.bfloat16)
add1, ew, mm = jax.jit(lambda x: x + 1.0), jax.jit(lambda v: jnp.tanh(v) * 2.0 + 1.0), jax.jit(lambda a: a @ a)
ops = [("tiny x+1 (8 f32)", lambda: add1(x8)), ("16 Mi f32 elementwise", lambda: ew(v16)),
       (f"bf16 matmul {N_MM}^2", lambda: mm(mb))]
for name, call in ops:
    for _ in range(3):
        jax.block_until_ready(call())
    walls = []
    for _ in range(20):
        t0 = time.perf_counter_ns()
        jax.block_until_ready(call())
        walls.append((time.perf_counter_ns() - t0) * 1e-9)
    rows.append((name, "wall (plain loop)", us(med(walls))))
    for timer in ("device", "cupti"):
        try:
            out = device_measures(call, jax.block_until_ready, SimpleNamespace(timer=timer, device_calls=20))
        except Exception as e:
            print(f"{name} timer={timer}: {type(e).__name__}: {e}")
            missing.append(f"{name}: device_time with timer={timer}")
            continue
        meta = out["device_time"].meta
        rows.append((name, f"device_time ({timer})", us(med(out["device_time"].samples))))
        rows.append((name, f"dispatch_overhead ({timer})", us(med(out["dispatch_overhead"].samples))))
        print(f"{name} timer={timer} source={meta.get('source')} lines={meta.get('lines')} "
              f"kernels={json.dumps(meta.get('kernels', [])[:3], default=str)}")
        if timer == "device" and ON_GPU:
            need(meta.get("source") == "device lines", f"{name}: device-line spans (got {meta.get('source')})")

# 3. Hot vs cold for an 8 MB triad.
size, source = cache_info(gpus[0])
if not ON_GPU:
    size, source = 4 * 2**20, f"smoke test on {gpus[0].platform}: 4 MiB assumed"
print("L2", size, "B from", source)
rows.append(("cache", "L2 size", f"{size} B ({source})"))
flush = CacheFlusher(2 * size if not ON_GPU else None, device=gpus[0])
n = 8 * 2**20 // 16
b, c = jnp.ones(n, jnp.float32), jnp.full(n, 0.5, jnp.float32)
triad = jax.jit(lambda a, b, c: 0.5 * a + b + 2.0 * c, donate_argnums=0)
state = {"a": jnp.zeros(n, jnp.float32)}


def triad_call():
    state["a"] = triad(state["a"], b, c)
    return state["a"]


jax.block_until_ready(triad_call())
per_mode = {}
for mode in ("hot", "cold"):
    for timer in ("device", "cupti"):
        try:
            out = device_measures(triad_call, jax.block_until_ready, SimpleNamespace(timer=timer, device_calls=30),
                                  flush if mode == "cold" else None)
        except Exception as e:
            print(f"triad {mode} timer={timer}: {type(e).__name__}: {e}")
            missing.append(f"8 MB triad {mode}: device_time ({timer})")
            continue
        t = med(out["device_time"].samples)
        per_mode[(mode, timer)] = t
        rows.append(("8 MB triad", f"{mode} device_time ({timer})", f"{us(t)}  {16 * n / t / 1e9:.0f} GB/s"))
for timer in ("device", "cupti"):
    if ("hot", timer) in per_mode and ("cold", timer) in per_mode and per_mode[("cold", timer)] <= per_mode[("hot", timer)]:
        print(f"WARN: cold 8 MB triad not slower than hot with timer={timer}: the flush may not evict L2")

# 4. The device timer and cold caches through run_case (timing.py's integration).
try:
    protocol = TimingProtocol(min_rounds=10, min_time=0.2, timer="device", device_calls=10, cache="cold")
except TypeError as e:
    print("TimingProtocol takes no timer/cache fields yet:", e)
    missing.append("TimingProtocol(timer=, cache=)")
else:
    from calibrax.runner.catalog import package_conf_dir

    spec = load_benchmark("matmul", str(package_conf_dir().parent / "benchmarks" / "core_ops.py"))
    case = run_case(spec, {"n": N, "dtype": "bfloat16"}, protocol)
    print("run_case timer=device cache=cold", case.status.value, (case.error or "")[-400:])
    for name in ("time", "device_time", "dispatch_overhead"):
        need(name in case.measures, f"run_case timer=device: {name}")
        if name in case.measures:
            rows.append((f"run_case matmul {N} bf16 cold", name, us(med(case.measures[name].samples))))

# 5. A bf16 matmul sharded over every visible GPU: per-GPU memory and energy.
@calibrax.benchmark("gpu_check_sharded_matmul", params={"n": [N_MM]})
def sharded_matmul(n: int) -> calibrax.Workload:
    mesh = jax.make_mesh((len(jax.devices()),), ("x",))
    rows_sharded, replicated = NamedSharding(mesh, PartitionSpec("x", None)), NamedSharding(mesh, PartitionSpec())
    ka, kb = jax.random.split(jax.random.key(1))
    a = jax.device_put(jax.random.normal(ka, (n, n), jnp.bfloat16), rows_sharded)
    b = jax.device_put(jax.random.normal(kb, (n, n), jnp.bfloat16), replicated)
    return calibrax.Workload(jax.jit(jnp.matmul, out_shardings=rows_sharded), args=(a, b))


names, _ = resolve_profilers(["gpu", "memory", "energy", "flops"])
case = run_case(load_benchmark("gpu_check_sharded_matmul", None), {"n": N_MM},
                TimingProtocol(min_rounds=20, min_time=1.0), ProfilingOptions(profilers=names))
print(f"sharded bf16 matmul over {len(gpus)} GPU(s):", case.status.value, (case.error or "")[-400:])
for name in ("time", "flops", "device_peak_memory", "energy", "gpu_energy", "gpu_memory_used"):
    need(name in case.measures, f"sharded matmul: {name}")
    if name in case.measures:
        m = case.measures[name]
        rows.append((f"sharded matmul x{len(gpus)}", name, f"{med(m.samples):.6g} {m.measure.unit}"))
        if m.meta:
            print(f"  {name} meta:", json.dumps(m.meta, default=str)[:600])
profiling = case.meta.get("profiling", {})
for part in ("gpu", "memory", "energy", "flops"):
    print(f"  meta[profiling][{part}]:", json.dumps(profiling.get(part, {}), default=str)[:800])

print()
width = max(len(r[0]) for r in rows) if rows else 10
for check, what, value in rows:
    print(f"{check:<{width}}  {what:<34} {value}")
if missing:
    print("MISSING on an NVIDIA machine:", missing)
    sys.exit(1)
print("JAX-correct timing checks OK")
PY
exit $status
