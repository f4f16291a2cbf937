"""Plan-time checks: a benchmark's YAML, source and grid values are checked before anything runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from calibrax.core import ConfigError
from calibrax.runner.catalog import discover_benchmarks
from calibrax.runner.config import load_config
from calibrax.runner.plan import plan_run


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


GOOD = {
    "mybench.py": "import calibrax\n",
    "conf/benchmark/scale.yaml": "source: mybench\nparams:\n  n: [1024, 4096]\n  alpha: [0.5]\n  act: [relu]\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return _project(tmp_path, GOOD)


def _plan(project: Path, **cfg: object) -> list[object]:
    return list(plan_run(load_config({"benchmarks": ["scale"], **cfg}), discover_benchmarks(project)))


def test_a_good_benchmark_plans(project: Path) -> None:
    [bench] = _plan(project, params={"scale": {"n": [8], "alpha": [1], "act": ["gelu"]}})  # an int is a number
    assert bench.cases == ({"n": 8, "alpha": 1, "act": "gelu"},)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("grid", "expected"), [
    ({"n": ["abc"]}, "params.scale.n='abc' is a string, but .*scale.yaml declares n as an integer"),
    ({"n": [1.5]}, "params.scale.n=1.5 is a number, but .*declares n as an integer"),
    ({"alpha": ["x"]}, "declares alpha as a number"),
    ({"act": [3]}, "declares act as a string"),
    ({"n": []}, r"params.scale.n is an empty grid \(\[\]\)"),
])
def test_grid_values_of_the_wrong_type_stop_the_plan(project: Path, grid: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        _plan(project, params={"scale": grid})


def test_a_missing_source_module_names_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"conf/benchmark/scale.yaml": "source: does_not_exist\nparams: {n: [1]}\n"})
    with pytest.raises(ConfigError) as err:
        _plan(tmp_path)
    assert "scale.yaml: source 'does_not_exist' names no module" in str(err.value)
    _project(tmp_path, {"conf/benchmark/scale.yaml": "source: benches/nope.py\nparams: {n: [1]}\n"})
    with pytest.raises(ConfigError, match=r"nope\.py does not exist"):
        _plan(tmp_path)


def test_a_dotted_source_is_found_without_importing_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"pkg/__init__.py": "raise RuntimeError('imported at plan time')\n",
                        "pkg/bench.py": "raise RuntimeError('imported at plan time')\n",
                        "conf/benchmark/scale.yaml": "source: pkg.bench\nparams: {n: [1]}\n"})
    [bench] = _plan(tmp_path)
    assert bench.source == "pkg.bench"  # type: ignore[attr-defined]
    _project(tmp_path, {"conf/benchmark/scale.yaml": "source: pkg.missing\nparams: {n: [1]}\n"})
    with pytest.raises(ConfigError, match="'pkg.missing' was not found"):
        _plan(tmp_path)


def test_a_broken_yaml_stops_only_the_run_that_selects_it(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    _project(project, {"conf/benchmark/broken.yaml": "source: mybench\nparams: [unclosed\n"})
    with caplog.at_level(logging.WARNING, logger="calibrax"):
        [bench] = _plan(project)
    assert bench.name == "scale"  # type: ignore[attr-defined]
    assert any("broken is not selected" in r.getMessage() and "broken.yaml" in r.getMessage() for r in caplog.records)
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        list(plan_run(load_config({"benchmarks": ["broken"]}), discover_benchmarks(project)))


DECO = '''
import calibrax


@calibrax.benchmark("deco", params={"n": [1, 2], "act": ["relu"]})
def deco(n: int, act: str) -> calibrax.Workload:
    return calibrax.from_callable(lambda: n)
'''


@pytest.mark.slow
def test_a_yaml_without_params_uses_the_decorators_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"decobench.py": DECO, "conf/benchmark/deco.yaml": "source: decobench\n"})
    [bench] = list(plan_run(load_config({"benchmarks": ["deco"]}), discover_benchmarks(tmp_path)))
    assert bench.cases == ({"n": 1, "act": "relu"}, {"n": 2, "act": "relu"}) and bench.grid_source == "decorator"
    [over] = list(plan_run(load_config({"benchmarks": ["deco"], "params": {"deco": {"n": [5]}}}),
                           discover_benchmarks(tmp_path)))
    assert over.cases == ({"n": 5, "act": "relu"},) and over.grid_source == "command line"
    _project(tmp_path, {"conf/benchmark/deco.yaml": "source: decobench\nparams:\n  n: [7]\n  act: [gelu]\n"})
    [yaml] = list(plan_run(load_config({"benchmarks": ["deco"]}), discover_benchmarks(tmp_path)))
    assert yaml.cases == ({"n": 7, "act": "gelu"},) and yaml.grid_source == "yaml"  # the YAML's params win


def test_a_broken_source_of_a_decorator_grid_names_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"decobench.py": "raise ImportError('no such thing as flux')\n",
                        "conf/benchmark/deco.yaml": "source: decobench\n"})
    with pytest.raises(ConfigError) as err:
        list(plan_run(load_config({"benchmarks": ["deco"]}), discover_benchmarks(tmp_path)))
    text = str(err.value)
    assert "deco.yaml has no params:" in text and "ImportError: no such thing as flux" in text


COUNTED = '''import os
import calibrax

with open("grid_reads.txt", "a") as log:  # the process that imported this module
    log.write(f"{os.getpid()}\\n")


@calibrax.benchmark("counted", params={"n": [1, 2]})
def counted(n: int) -> calibrax.Workload:
    return calibrax.from_callable(lambda: n)
'''


@pytest.mark.slow
def test_calibrax_run_reads_a_decorator_grid_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import calibrax

    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"countedbench.py": COUNTED, "conf/benchmark/counted.yaml": "source: countedbench\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    outcome = calibrax.run(["counted"], ["profile=quick", "profile.isolation=none", "exporters=[json]"])
    assert outcome.exit_code == 0 and [c.params for c in outcome.cases] == [{"n": 1}, {"n": 2}]
    readers = [int(pid) for pid in (tmp_path / "grid_reads.txt").read_text().split()]
    # the grid is read once, in a child process; the run itself imports the module here (isolation=none)
    assert len([pid for pid in readers if pid != os.getpid()]) == 1, readers


@pytest.mark.parametrize(
    "block, expected",
    [
        ("validation:\n  checks:\n    - {type: convergence, series: loss, tolerance: [0.1]}\n",
         r"scale.yaml: validation.checks\[0\]: Unknown key 'tolerance'. Did you mean 'tolerances'\?"),
        ("validation:\n  checks:\n    - {type: accuracy, measure: time, reference: 1, better: less}\n",
         r"scale.yaml: validation.checks\[0\].better: Unknown choice 'less'"),
        ("metrics:\n  - {name: accuracy, kwarg: {beta: 2}}\n",
         r"Benchmark 'scale': metrics\[0\]: Unknown key 'kwarg'. Did you mean 'kwargs'\?"),
    ],
)
def test_a_bad_validation_or_metrics_entry_stops_the_plan_naming_the_key(
    project: Path, block: str, expected: str
) -> None:
    yaml = project / "conf" / "benchmark" / "scale.yaml"
    yaml.write_text(GOOD["conf/benchmark/scale.yaml"] + block)
    with pytest.raises(ConfigError, match=expected):
        _plan(project)
