from __future__ import annotations

from pathlib import Path

import pytest

from calibrax.core import ConfigError
from calibrax.runner.catalog import config_dirs, discover_benchmarks, load_benchmark_entry, package_conf_dir

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "userproj"


def test_shipped_benchmarks_are_discovered() -> None:
    found = discover_benchmarks(Path("/"))
    assert {"matmul", "softmax", "mlp_forward", "mlp_train_step"} <= set(found)
    matmul = found["matmul"]
    assert matmul.source.endswith("benchmarks/core_ops.py") and Path(matmul.source).is_file()
    assert matmul.params["n"] == [128, 256, 512]


def test_user_conf_comes_first_and_adds_benchmarks() -> None:
    assert config_dirs(FIXTURE) == [FIXTURE / "conf", package_conf_dir()]
    found = discover_benchmarks(FIXTURE)
    assert found["steady"].source == "userbench" and "matmul" in found


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "benchmark" / "b.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, match",
    [
        ("- a\n- b\n", "must be a mapping"),
        ("params: {n: [1]}\n", "needs 'source'"),
        ("source: m\nparms: {}\n", "Unknown key 'parms'. Did you mean 'params'"),
        ("source: m\nparams: [1, 2]\n", r"'params' must be a mapping of param names to lists of values, got \[1, 2\]"),
        ("source: m\nmetrics: accuracy\n", r"'metrics' must be a list of metric names .*, got 'accuracy'"),
        ("source: ''\n", "needs 'source'"),
        ("source: m\nparams: {n: [1\n", "Cannot read benchmark config"),
    ],
)
def test_bad_benchmark_yaml_is_a_config_error(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_benchmark_entry(_write(tmp_path, text))


def test_py_source_is_relative_to_the_folder_holding_conf(tmp_path: Path) -> None:
    entry = load_benchmark_entry(_write(tmp_path, "source: benches/b.py\nparams: {n: [1, 2]}\n"))
    assert entry.source == str(tmp_path / "benches" / "b.py")


def test_a_selected_group_file_with_bad_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    from calibrax.runner.catalog import check_group_files

    suites = tmp_path / "conf" / "suite"
    suites.mkdir(parents=True)
    (suites / "mine.yaml").write_text("benchmarks: [matmul\nfoo: : bar\n")
    (suites / "fine.yaml").write_text("benchmarks: [matmul]\n")
    check_group_files(["suite=fine"], tmp_path)  # the broken file is not selected
    check_group_files([], tmp_path)
    for argv in (["suite=mine"], ["-m", "suite=fine,mine"], ["+suite=mine"]):
        with pytest.raises(ConfigError) as err:
            check_group_files(argv, tmp_path)
        assert f"Cannot read {suites / 'mine.yaml'}: line 2, column 4: expected ','" in str(err.value)
    profiles = tmp_path / "conf" / "profile"
    profiles.mkdir()
    (profiles / "standard.yaml").write_text("mode: [\n")  # shadows the shipped default
    with pytest.raises(ConfigError, match=r"profile/standard\.yaml: line 2"):
        check_group_files(["suite=fine"], tmp_path)
