"""Every user mistake in a config exits 2 before measuring, with a one-line ``Error:`` and no
traceback: generated bad overrides and benchmark YAML files through the checks calibrax-run
makes before it measures (in process), and a few real calibrax-run and calibrax commands."""

from __future__ import annotations

import math
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from calibrax.core import ConfigError, RunInfo, RunStatus
from calibrax.runner.app import check_config
from calibrax.runner.catalog import BenchmarkEntry, discover_benchmarks
from calibrax.runner.config import MIN_BUSY_TIMEOUT, check_settings, load_config
from calibrax.storage import Store
from tests.conftest import REPO, run_cli

USERPROJ = REPO / "tests" / "fixtures" / "userproj"

# key -> values it must refuse (each one out of range, not finite, or of the wrong type)
_POSITIVE = ["profile.case_timeout", "profile.worker_start_timeout", "thresholds.fdr"]
_AT_LEAST_ZERO = ["profile.warmup_time", "profile.min_round_time", "profile.min_time", "profile.warmup_calls",
                  "profile.carbon.intensity", "ci.history"]
_AT_LEAST_ONE = ["profile.min_rounds", "profile.tracing.calls", "profile.device_calls", "ci.trials", "profile.carbon.pue",
                 "ci.repeats"]
_FLOATS = {"profile.case_timeout", "profile.worker_start_timeout", "thresholds.fdr", "profile.warmup_time",
           "profile.min_round_time", "profile.min_time", "profile.carbon.intensity", "profile.carbon.pue", "store.busy_timeout"}


def _bad_number(key: str) -> st.SearchStrategy[str]:
    least = 0 if key in _POSITIVE else (-1 if key in _AT_LEAST_ZERO else 0)
    if key == "store.busy_timeout":
        below = st.floats(max_value=MIN_BUSY_TIMEOUT, exclude_max=True, allow_nan=False, allow_infinity=False)
    elif key in _FLOATS:
        below = st.floats(max_value=float(least), allow_nan=False, allow_infinity=False,
                          exclude_max=key not in _POSITIVE)
    else:
        below = st.integers(max_value=least, min_value=-(10**6))
    strings = st.sampled_from(["nan", "inf", "-inf", "-.inf", ".nan"]) if key in _FLOATS else st.just("abc")
    return st.one_of(below.map(repr), strings)


_NUMERIC_KEYS = [*_POSITIVE, *_AT_LEAST_ZERO, *_AT_LEAST_ONE, "store.busy_timeout"]
numeric_mistakes = st.sampled_from(_NUMERIC_KEYS).flatmap(lambda k: _bad_number(k).map(lambda v: f"{k}={v}"))
empty_grids = st.sampled_from(["params.matmul.n", "params.softmax.cols", "params.steady.size"]).map(lambda k: f"{k}=[]")
unknown_keys = st.from_regex(r"[a-z]{3,10}(\.[a-z]{1,8})?", fullmatch=True).filter(
    lambda k: k.split(".")[0] not in {"suite", "benchmarks", "params", "profile", "hardware", "store", "thresholds",
                                      "ci", "exporters", "exporter", "report", "sweep", "hydra", "extra_benchmarks"}
).map(lambda k: f"{k}=1")
bad_interpolations = st.sampled_from(["profile.name", "suite.description", "store.path"]).flatmap(
    lambda k: st.sampled_from(["${7*7}", "${undefined}", "${profile.nope}", "${oc.env:CALIBRAX_SURELY_UNSET_42}"])
    .map(lambda v: f"{k}='{v}'"))
bad_overrides = st.one_of(numeric_mistakes, empty_grids, unknown_keys, bad_interpolations)


@pytest.fixture(scope="module")
def project() -> Path:
    folder = Path(tempfile.mkdtemp()) / "userproj"
    shutil.copytree(USERPROJ, folder)
    return folder


def assert_config_error(argv: list[str], cwd: Path, catalog: dict[str, BenchmarkEntry] | None = None) -> None:
    """calibrax-run's checks refuse ``argv`` with a ConfigError (exit 2) of one line."""
    with pytest.raises(ConfigError) as info:
        check_config(argv, cwd, catalog)
    message = str(info.value)
    assert message and "\n" not in message, message
    assert info.value.exit_code == 2


@pytest.fixture(scope="module")
def catalog(project: Path) -> dict[str, BenchmarkEntry]:
    return discover_benchmarks(project)


@pytest.mark.slow
# Each example composes the whole config with Hydra (about 0.2 s): 40 generated ones plus one
# explicit example of each kind of mistake reach every check these overrides can trip.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(override=bad_overrides)
@example(override="profile.case_timeout=nan")
@example(override="store.busy_timeout=0")
@example(override="profile.min_rounds=0")
@example(override="profile.warmup_time=-1.0")
@example(override="params.softmax.cols=[]")
@example(override="zzzz.qq=1")
@example(override="suite.description='${oc.env:CALIBRAX_SURELY_UNSET_42}'")
def test_generated_bad_overrides_are_config_errors(project: Path, catalog: dict[str, BenchmarkEntry],
                                                   override: str) -> None:
    assert_config_error(["profile=quick", "benchmarks=[steady]", override], project, catalog)


_YAML_MISTAKES = st.one_of(
    st.sampled_from(["${7*7}", "${undefined}", "${params.nope}", "${oc.env:CALIBRAX_SURELY_UNSET_42}"]).map(
        lambda v: f"source: userbench\nparams:\n  size: [64]\n  work: {v}\n"),
    st.sampled_from(["${7*7}", "${undefined}"]).map(lambda v: f"source: userbench\ndescription: {v}\n"),
    st.from_regex(r"[a-z_]{3,12}", fullmatch=True).filter(
        lambda k: k not in {"source", "description", "params", "metrics", "thresholds", "validation",
                            "allow_recompile"}).map(lambda k: f"source: userbench\n{k}: 1\n"),
    st.sampled_from(["- a\n- b\n", "just text\n", "source: userbench\nparams: [1, 2]\n", "description: no source\n",
                     "source: userbench\nparams: {size: []}\n", "source: userbench\nallow_recompile: maybe\n",
                     "source: [unclosed\n"]),
)


@pytest.mark.slow
# Each example finds the benchmark files again and composes (about 0.8 s): 20 generated ones
# plus one explicit example of each kind of broken file.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_YAML_MISTAKES)
@example(text="source: [unclosed\n")  # YAML's parse errors span several lines
@example(text="source: userbench\nparams:\n  size: [64]\n  work: ${7*7}\n")
@example(text="source: userbench\ndescription: ${undefined}\n")
@example(text="source: userbench\nwarmups: 1\n")
@example(text="- a\n- b\n")
@example(text="description: no source\n")
@example(text="source: userbench\nparams: {size: []}\n")
@example(text="source: userbench\nallow_recompile: maybe\n")
def test_generated_bad_benchmark_files_are_config_errors(project: Path, text: str) -> None:
    path = project / "conf" / "benchmark" / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        assert_config_error(["profile=quick", "benchmarks=[broken]"], project)
    finally:
        path.unlink()


@pytest.mark.parametrize("value", [math.nan, -5.0, 0.0, math.inf])
def test_case_timeout_must_be_a_positive_finite_number(value: float) -> None:
    with pytest.raises(ConfigError, match="profile.case_timeout must be a finite number > 0"):
        load_config({"profile": {"case_timeout": value}})


@pytest.mark.parametrize("value", [-1.0, 0.0, 0.5])
def test_busy_timeout_has_a_floor_that_keeps_concurrent_runs_safe(value: float) -> None:
    with pytest.raises(ConfigError, match=f"store.busy_timeout must be a finite number >= {MIN_BUSY_TIMEOUT:g}"):
        load_config({"store": {"busy_timeout": value}})
    check_settings(load_config({"store": {"busy_timeout": MIN_BUSY_TIMEOUT}}))


def test_an_empty_grid_and_crossed_round_limits_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"params.matmul.n is an empty grid \(\[\]\)"):
        load_config({"params": {"matmul": {"n": []}}})
    with pytest.raises(ConfigError, match=r"profile.max_rounds \(3\) must be >= profile.min_rounds \(5\)"):
        load_config({"profile": {"min_rounds": 5, "max_rounds": 3}})


def test_a_good_command_line_passes_the_checks(project: Path) -> None:
    typed = check_config(["profile=quick", "benchmarks=[steady]", "store.busy_timeout=1"], project)
    assert typed.profile.name == "quick" and typed.store.busy_timeout == 1.0


def _damaged_store(path: Path) -> None:
    with Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("CREATE TABLE filler (x TEXT)")  # pages past the schema page to damage
    conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(200)])
    conn.commit()
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'filler'").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * 4096 + 8 : (root - 1) * 4096 + 400] = b"\x07" * 392
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, yaml, match",
    [
        (["profile.case_timeout=nan"], None, "profile.case_timeout must be a finite number > 0, got nan"),
        (["profile.case_timeout=-5"], None, "profile.case_timeout must be a finite number > 0, got -5.0"),
        (["params.steady.size=[]"], None, "params.steady.size is an empty grid"),
        (["store.busy_timeout=-1"], None, "store.busy_timeout must be a finite number >= 1"),
        (["report.dir=/dev/null", "exporters=[json]"], None, "report.dir '/dev/null' exists and is not a folder"),
        ([], "source: userbench\nparams:\n  size: ${7*7}\n", r"key 'params.size' has an interpolation"),
        ([], "source: userbench\ndescription: ${undefined}\n", r"key 'description' has an interpolation"),
        (["store.path=damaged.db"], None, "is damaged"),
    ],
)
def test_calibrax_run_exits_2_before_measuring(tmp_path: Path, args: list[str], yaml: str | None, match: str) -> None:
    folder = tmp_path / "userproj"
    shutil.copytree(USERPROJ, folder)
    if yaml is not None:
        (folder / "conf" / "benchmark" / "steady.yaml").write_text(yaml, encoding="utf-8")
    if "store.path=damaged.db" in args:
        _damaged_store(folder / "damaged.db")
    before = (folder / "damaged.db").read_bytes() if (folder / "damaged.db").exists() else None
    done = run_cli("calibrax-run", "benchmarks=[steady]", "profile=quick", "exporters=[]", *args, cwd=folder)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and re.search(match, errors[0]), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    if before is not None:
        assert (folder / "damaged.db").read_bytes() == before
    elif (folder / "calibrax.db").exists():  # opened before the report folder was checked
        with Store.open(folder / "calibrax.db", read_only=True) as store:
            assert store.list_runs() == []  # nothing was measured or stored


@pytest.mark.slow
@pytest.mark.parametrize("out", ["/dev/full", ".", "", "{tmp}/a-file/report.html"])
def test_calibrax_report_checks_out_before_writing(tmp_path: Path, out: str) -> None:
    with Store.open(tmp_path / "calibrax.db") as s:
        s.begin_run(RunInfo("r1", "2025-01-01T00:00:00+00:00", RunStatus.RUNNING))
        s.finish_run("r1", RunStatus.OK, "2025-01-01T00:01:00+00:00")
    (tmp_path / "a-file").write_text("not a folder")
    done = run_cli("calibrax", "report", "r1", "--format", "json", "--out", out.format(tmp=tmp_path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Error: --out ") and done.stderr.count("\n") == 1, done.stderr


def test_calibrax_runs_limit_is_bounded(tmp_path: Path) -> None:
    Store.open(tmp_path / "calibrax.db").close()
    done = run_cli("calibrax", "runs", "--limit", "99999999999999999999", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is not in the range 1<=x<=1000000000" in done.stderr


@pytest.mark.parametrize(("old", "new"), [("profile.carbon_intensity", "profile.carbon.intensity"),
                                          ("profile.pue", "profile.carbon.pue"),
                                          ("profile.trace_calls", "profile.tracing.calls")])
def test_a_moved_key_names_its_new_place_on_the_command_line_and_in_yaml(old: str, new: str) -> None:
    from calibrax.runner.app import check_overrides

    with pytest.raises(ConfigError, match=re.escape(f"write '{new}=2'")):
        check_overrides([f"{old}=2"], {})
    section, key = old.split(".")
    with pytest.raises(ConfigError, match=re.escape(f"{old} is now {new}")):
        load_config({section: {key: 2}})
