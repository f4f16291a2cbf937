"""Cold caches: the last-level cache size, the flush kernel and rotated inputs (on CPU)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calibrax.core import ConfigError
from calibrax.profiling import cache
from calibrax.profiling._trace import op_events
from calibrax.profiling.cache import FLUSH_MODULE, CacheFlusher, cache_info, last_level_cache_bytes, rotated_args


def test_this_machine_reports_a_last_level_cache_with_its_source() -> None:
    size, source = cache_info()
    assert size is not None and size > 0
    assert source and ("sysfs" in source or "lscpu" in source)
    assert last_level_cache_bytes() == size
    assert last_level_cache_bytes(jax.devices()[0]) == size


def _sysfs(root: Path, entries: list[tuple[int, str, str]]) -> Path:
    for i, (level, kind, size) in enumerate(entries):
        d = root / f"index{i}"
        d.mkdir(parents=True)
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    return root


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([(1, "Data", "48K"), (1, "Instruction", "64K"), (2, "Unified", "2048K"), (3, "Unified", "32768K")],
         (32 * 2**20, 3)),
        ([(1, "Data", "32K"), (2, "Unified", "1M")], (2**20, 2)),
        ([(1, "Instruction", "64K"), (2, "Instruction", "1M"), (1, "Data", "16K")], (16 * 2**10, 1)),
    ],
)
def test_the_largest_data_or_unified_level_is_the_last_level(
    tmp_path: Path, entries: list[tuple[int, str, str]], expected: tuple[int, int]
) -> None:
    found = cache._cpu_cache(_sysfs(tmp_path, entries))
    assert found is not None
    assert found[0] == expected[0] and f"L{expected[1]}" in found[1]


def test_no_sysfs_entries_give_none(tmp_path: Path) -> None:
    assert cache._cpu_cache(tmp_path) is None


def test_a_gpu_without_a_reported_l2_falls_back_to_256_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_cuda_l2_bytes", lambda ordinal: None)
    size, source = cache_info(SimpleNamespace(platform="gpu", id=0, local_hardware_id=0))
    assert size == 256 * 2**20 and "default 256 MiB" in source
    monkeypatch.setattr(cache, "_cuda_l2_bytes", lambda ordinal: 50 * 2**20)
    size, source = cache_info(SimpleNamespace(platform="gpu", id=1, local_hardware_id=1))
    assert size == 50 * 2**20 and "CUDA driver" in source


def test_the_flusher_writes_nbytes_and_every_call_runs() -> None:
    flush = CacheFlusher(nbytes=1 << 20)
    assert flush.nbytes == 1 << 20 and flush.source == "explicit nbytes"
    assert flush.buffer.nbytes == flush.nbytes and flush.buffer.dtype == jnp.int32
    assert flush.module_name == FLUSH_MODULE == "jit_calibrax_cache_flush"
    before = int(flush.buffer[0])
    flush()
    first = np.asarray(flush.buffer)
    flush()
    second = np.asarray(flush.buffer)
    assert flush.calls == 2
    # each call adds its step to every element: 1 at creation, then 2, then 3
    assert before == 1 and (first == 3).all() and (second == 6).all()


def test_the_flusher_defaults_to_twice_the_last_level_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "cache_info", lambda device=None: (1 << 16, "sysfs test"))
    flush = CacheFlusher()
    assert flush.nbytes == 2 << 16 and "sysfs test" in flush.source


def test_an_unknown_cache_size_or_bad_nbytes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="nbytes must be an integer >= 4"):
        CacheFlusher(nbytes=2)
    monkeypatch.setattr(cache, "cache_info", lambda device=None: (None, "no cache size in sysfs or lscpu"))
    with pytest.raises(ConfigError, match="no cache size in sysfs"):
        CacheFlusher()


def test_the_flush_kernel_runs_under_its_module_name(tmp_path: Path) -> None:
    flush = CacheFlusher(nbytes=1 << 20)
    jax.profiler.start_trace(str(tmp_path))
    try:
        flush()
    finally:
        jax.profiler.stop_trace()
    (pb,) = tmp_path.glob("plugins/profile/*/*.xplane.pb")
    ops, _ = op_events(jax.profiler.ProfileData.from_file(str(pb)))
    assert FLUSH_MODULE in {o.module for o in ops}


def _nbytes(tree: Any) -> int:
    return sum(x.nbytes for x in jax.tree_util.tree_leaves(tree) if isinstance(x, jax.Array))


def test_rotated_args_exceed_the_cache_in_distinct_buffers() -> None:
    x, y = jnp.ones((64, 64)), jnp.arange(100.0)
    sets = rotated_args((x, 3), {"y": y, "flag": True}, cache_bytes=100_000)
    per_copy = x.nbytes + y.nbytes
    assert len(sets) >= 2 and len(sets) * per_copy > 100_000
    assert all(_nbytes(s) == per_copy for s in sets)
    pointers = {a[0].unsafe_buffer_pointer() for a, _ in sets} | {x.unsafe_buffer_pointer()}
    assert len(pointers) == len(sets) + 1
    assert all(a[1] == 3 and k["flag"] is True for a, k in sets)
    assert all(np.array_equal(k["y"], y) for _, k in sets)


def test_rotated_args_makes_at_least_two_copies_and_moves_numpy_to_the_device() -> None:
    sets = rotated_args((np.ones(1024, np.float32),), {}, cache_bytes=16)
    assert len(sets) == 2 and all(isinstance(a[0], jax.Array) for a, _ in sets)


@pytest.mark.parametrize(
    ("args", "cache_bytes", "match"),
    [
        ((1, 2.0, "s"), 1024, "hold none"),
        ((jnp.ones(2),), 1 << 30, "copies"),
    ],
)
def test_rotated_args_refuses_what_it_cannot_rotate(args: tuple[Any, ...], cache_bytes: int, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        rotated_args(args, {}, cache_bytes)
