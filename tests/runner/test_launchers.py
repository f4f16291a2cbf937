"""calibrax's launcher configs compose, and the SLURM one builds the sbatch script submitit
would send (no cluster here: only submitit's check for an ``srun`` binary is satisfied by an
empty script on PATH; nothing is submitted)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf

from calibrax.runner.app import known_params
from calibrax.runner.catalog import discover_benchmarks, package_conf_dir
from calibrax.runner.config import register_configs


@pytest.fixture(autouse=True)
def hydra_conf() -> Iterator[None]:
    register_configs(known_params(discover_benchmarks()))
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(package_conf_dir()), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _launcher(name: str, *overrides: str) -> dict:
    cfg = compose("calibrax", overrides=[f"hydra/launcher={name}", *overrides], return_hydra_config=True)
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)  # type: ignore[return-value]


@pytest.mark.parametrize(
    "name, target",
    [("parallel", "JoblibLauncher"), ("local", "LocalLauncher"), ("slurm", "SlurmLauncher")],
)
def test_launcher_configs_compose(name: str, target: str) -> None:
    assert _launcher(name)["_target_"].endswith(target)


def test_slurm_config_builds_the_sbatch_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import submitit

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{__import__('os').environ['PATH']}")

    params = _launcher("slurm", "hydra.launcher.partition=gpu", "hydra.launcher.account=proj42",
                       "hydra.launcher.constraint=h100")
    params.pop("_target_")
    folder = params.pop("submitit_folder")
    params.pop("max_num_timeout")
    executor = submitit.AutoExecutor(cluster="slurm", folder=tmp_path / Path(folder).name)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()})
    script = executor._executor._make_submission_file_text("python -m calibrax_job", "uid")  # type: ignore[attr-defined]
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=proj42", "#SBATCH --constraint=h100",
                 "#SBATCH --gpus-per-node=1", "#SBATCH --time=60", "#SBATCH --cpus-per-task=8",
                 "#SBATCH --mem=64GB", "#SBATCH --job-name=calibrax", "#SBATCH --signal=USR2@0",
                 "export XLA_PYTHON_CLIENT_PREALLOCATE=false"):
        assert line in script, f"{line!r} missing from:\n{script}"
