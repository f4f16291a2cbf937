"""The plugin's parts on their own: settings, markers, case identity, one timed call, the notes."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from calibrax_pytester import REPO

from calibrax.core.errors import ConfigError
from calibrax.core.models import CaseStatus
from calibrax.profiling import ProfilingOptions, TimingProtocol
from calibrax.pytest_plugin._call import untimed, workload_of
from calibrax.pytest_plugin._report import physical_cores, shared_cores_note
from calibrax.pytest_plugin._settings import available_profiles, marker_options, profile_config
from calibrax.pytest_plugin._timing import time_call

QUICK = TimingProtocol(min_rounds=2, min_time=0, warmup_time=0)


def test_the_entry_point_is_declared_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"calibrax": "calibrax.pytest_plugin"}
    installed = importlib.metadata.entry_points(group="pytest11", name="calibrax")
    assert all(ep.value == "calibrax.pytest_plugin" for ep in installed)  # when the install has it


def test_importing_the_plugin_is_cheap() -> None:
    code = ("import sys, calibrax.pytest_plugin as p; "
            "heavy = [m for m in ('jax', 'calibrax.runner.config', 'calibrax.storage', 'calibrax.pytest_plugin._session') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_a_profile_loads_from_conf_and_runs_in_process() -> None:
    cfg = profile_config(REPO, "quick")
    assert (cfg.profile.name, cfg.profile.min_rounds, cfg.profile.isolation.value) == ("quick", 5, "none")
    assert cfg.thresholds.measures["time"]["margin"] == 0.05
    assert profile_config(REPO, "quick", ["timing", "flops"]).profile.profilers == ["timing", "flops"]
    assert {"quick", "standard", "rigorous"} <= set(available_profiles(REPO))


def test_a_user_conf_profile_and_thresholds_come_first(tmp_path: Path) -> None:
    (tmp_path / "conf" / "profile").mkdir(parents=True)
    (tmp_path / "conf" / "thresholds").mkdir()
    (tmp_path / "conf" / "profile" / "mine.yaml").write_text("name: mine\nmin_rounds: 7\n")
    (tmp_path / "conf" / "thresholds" / "default.yaml").write_text("measures:\n  time: {margin: 0.5}\n")
    cfg = profile_config(tmp_path, "mine")
    assert cfg.profile.min_rounds == 7 and cfg.thresholds.measures["time"]["margin"] == 0.5


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"Unknown calibrax profile 'fastest'; pick one of .*quick"):
        profile_config(REPO, "fastest")


def test_a_profile_key_the_schema_refuses_names_it(tmp_path: Path) -> None:
    (tmp_path / "conf" / "profile").mkdir(parents=True)
    (tmp_path / "conf" / "profile" / "bad.yaml").write_text("min_rounds: many\n")
    with pytest.raises(ConfigError, match="profile.min_rounds"):
        profile_config(tmp_path, "bad")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rounds": 3}, "takes profile=, profilers= and params=; got rounds"),
    ({"profile": 3}, r"profile=\.\.\.\) takes a profile name"),
    ({"profilers": "flops"}, r"profilers=\.\.\.\) takes a list of profiler names"),
    ({"params": [1]}, r"params=\.\.\.\) takes a mapping"),
])
def test_a_bad_marker_is_refused_with_the_test_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=f"test_x: .*{message}"):
        marker_options(kwargs, "test_x")


def test_a_marker_gives_profile_profilers_and_params() -> None:
    assert marker_options({"profile": "quick", "profilers": ("timing",), "params": {"n": 8}}, "t") == (
        "quick", ["timing"], {"n": 8})


def test_a_timed_call_is_an_ok_case_with_summaries_and_its_result() -> None:
    timed = time_call("test_pow", {"n": 10}, workload_of(pow, (2, 10), {}), QUICK, ProfilingOptions(),
                      {"pytest": {"worker": None}})
    case = timed.case
    assert (timed.result, timed.exception, case.status, case.params) == (1024, None, CaseStatus.OK, {"n": 10})
    assert case.measures["time"].summary is not None and len(case.measures["time"].samples) >= 2
    assert case.meta["pytest"] == {"worker": None} and "pid" in case.meta


def test_a_failing_call_is_an_error_case_and_its_exception_comes_back() -> None:
    def bad() -> None:
        raise KeyError("missing")

    timed = time_call("test_bad", {}, workload_of(bad, (), {}), QUICK, ProfilingOptions())
    assert timed.case.status is CaseStatus.ERROR and isinstance(timed.exception, KeyError)
    assert "KeyError: 'missing'" in (timed.case.error or "")


def test_a_jitted_call_gets_its_compile_stages() -> None:
    import jax
    import jax.numpy as jnp

    timed = time_call("test_jit", {}, workload_of(jax.jit(jnp.sin), (jnp.zeros(4),), {}), QUICK, ProfilingOptions())
    assert {"trace_time", "lower_time", "compile_time", "time"} <= set(timed.case.measures)
    assert float(timed.result.sum()) == 0.0


def test_a_workload_is_timed_as_given_and_refuses_extra_arguments() -> None:
    from calibrax import Workload

    counter = Workload(lambda n: n + 1, args=(0,), carry=True)
    assert workload_of(counter, (), {}) is counter
    with pytest.raises(ConfigError, match=r"takes a Workload alone"):
        workload_of(counter, (1,), {})
    with pytest.raises(ConfigError, match=r"needs a callable or a calibrax.Workload first, got int"):
        workload_of(3, (), {})


def test_off_the_fixture_makes_one_plain_call() -> None:
    calls: list[int] = []
    assert untimed(lambda x: calls.append(x) or x * 2, (21,), {}) == 42
    assert calls == [21]


@pytest.mark.parametrize(("workers", "cores", "load", "says"), [
    (1, 1, 9.0, None),
    (2, 8, None, None),
    (2, 8, 3.0, None),
    (4, 2, None, "4 xdist workers ran on 2 physical core(s)"),
    (2, 2, 5.5, "load average reached 5.5 on 2 physical core(s)"),
])
def test_workers_on_shared_cores_are_told(workers: int, cores: int, load: float | None, says: str | None) -> None:
    note = shared_cores_note(workers, cores, load)
    assert (note is None) if says is None else (says in (note or "") and "Time without -n" in (note or ""))


def test_physical_cores_are_capped_by_affinity() -> None:
    import os

    cores = physical_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cores <= len(os.sched_getaffinity(0))
