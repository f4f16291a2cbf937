"""The run pipeline on typed config: load_config at the door, attributes inside, each stage once."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

import calibrax
from calibrax.core import BENCHMARKS, CaseStatus, ConfigError, RunStatus
from calibrax.profiling.timing import TimingProtocol
from calibrax.runner import CalibraxConfig, InProcessExecutor, IsolatedExecutor, executor_for, load_config
from calibrax.runner.config import CIConfig, Isolation, ProfileConfig, config_to_dict
from calibrax.runner.plan import protocol_settings
from calibrax.runner.run import run_benchmarks
from calibrax.storage import Store

QUICK = {"min_rounds": 2, "min_time": 0.0, "warmup_time": 0.0, "min_round_time": 0.0001}


@pytest.fixture()
def counted() -> str:
    name = "pipeline_sum"
    if name not in BENCHMARKS:

        @calibrax.benchmark(name, params={"n": [3, 4]})
        def _make(n: int) -> calibrax.Workload:
            return calibrax.Workload(sum, args=(list(range(n)),))

    return name


@pytest.mark.parametrize(
    "cfg, named",
    [
        ({"profile": {"min_roundz": 3}}, "min_roundz"),
        ({"profile": {"min_rounds": "many"}}, "min_rounds"),
        ({"ci": {"mode": "sometimes"}}, "sometimes"),
        ({"colour": "blue"}, "colour"),
        ({"profile": {"min_roundz": 3}}, "Allowed keys: name, mode, warmup_calls"),
        ({"exporter": {"html": {"titel": "x"}}}, "Allowed keys: title, template_dir"),
    ],
)
def test_load_config_names_the_bad_key_or_value(cfg: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_config(cfg)


def test_load_config_is_typed_and_idempotent() -> None:
    cfg = load_config({"profile": {"isolation": "none"}, "ci": {"max_trials": 12}})
    assert isinstance(cfg, CalibraxConfig) and cfg.profile.isolation is Isolation.none
    assert load_config(cfg) is cfg
    assert cfg.ci.max_trials == 12 and load_config().ci.max_trials == CIConfig().max_trials


def test_protocol_settings_are_plain_values_for_the_worker_pipe() -> None:
    settings = protocol_settings(ProfileConfig(), allow_recompile=True)
    protocol_fields = {f.name for f in fields(TimingProtocol)}
    assert set(settings) <= protocol_fields
    assert settings["mode"] == "latency" and type(settings["mode"]) is str
    assert TimingProtocol(**settings).mode == "latency"
    if "allow_recompile" in protocol_fields:
        assert settings["allow_recompile"] is True


def test_the_executor_follows_profile_isolation(tmp_path: Path) -> None:
    from calibrax.profiling import ProfilingOptions

    opts = ProfilingOptions()
    assert isinstance(executor_for(load_config(), tmp_path, opts), IsolatedExecutor)
    assert isinstance(executor_for(load_config({"profile": {"isolation": "none"}}), tmp_path, opts), InProcessExecutor)


def test_a_run_stores_its_typed_config_as_plain_values(tmp_path: Path, counted: str) -> None:
    cfg = {"benchmarks": [counted], "profile": {**QUICK, "isolation": "none"}, "exporters": [],
           "thresholds": {"benchmarks": {counted: {"time": {"margin": 0.5}}}}}
    outcome = run_benchmarks(cfg, cwd=tmp_path, catalog={}, assigned={"cores": [0]})
    assert outcome.status is RunStatus.OK and outcome.exit_code == 0
    assert [c.params for c in outcome.cases] == [{"n": 3}, {"n": 4}]
    assert all(c.status is CaseStatus.OK for c in outcome.cases)
    with Store.open(tmp_path / "calibrax.db") as store:
        stored = store.load_run(outcome.run_id)
    config = dict(stored.run.config)
    assert config["profile"]["isolation"] == "none" and config["profile"]["min_rounds"] == 2
    assert config["sweep"]["assigned"] == {"cores": [0]}
    assert config["thresholds"]["benchmarks"][counted]["time"]["margin"] == 0.5
    assert config["plan"]["grid_source"] == {counted: "decorator"}  # what the plan resolved, stored beside it
    typed = {k: v for k, v in config.items() if k not in ("sweep", "plan")}
    assert config == {**config_to_dict(load_config(typed)), "sweep": config["sweep"],
                      "plan": config["plan"]}  # loads back into the same typed config


def test_a_bad_config_stops_before_anything_is_stored(tmp_path: Path, counted: str) -> None:
    with pytest.raises(ConfigError, match="ci=stored needs a baseline name"):
        run_benchmarks({"benchmarks": [counted], "ci": {"mode": "stored"}}, cwd=tmp_path, catalog={})
    with Store.open(tmp_path / "calibrax.db") as store:
        assert store.list_runs() == []
