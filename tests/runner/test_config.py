"""The composed config, checked by the structured schema through Hydra's compose API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException

from calibrax.core import ConfigError
from calibrax.core.exitcodes import combine_exit_codes
from calibrax.runner.app import check_overrides, known_params
from calibrax.runner.catalog import discover_benchmarks, package_conf_dir
from calibrax.runner.config import CalibraxConfig, config_to_dict, load_config, register_configs
from calibrax.runner.plan import plan_run

CATALOG = discover_benchmarks()
KNOWN = known_params(CATALOG)


@pytest.fixture(autouse=True)
def hydra_conf() -> Iterator[None]:
    register_configs(KNOWN)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(package_conf_dir()), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _cfg(*overrides: str) -> CalibraxConfig:
    return load_config(compose("calibrax", overrides=list(overrides)))


def test_defaults_compose_to_the_default_suite() -> None:
    cfg = _cfg()
    assert cfg.suite.benchmarks == ["matmul", "softmax", "mlp_forward", "mlp_train_step"]
    assert cfg.profile.name == "standard" and cfg.profile.isolation.value == "process"
    assert cfg.params["matmul"]["n"] == [128, 256, 512]
    assert set(cfg.exporter) == {"html", "markdown", "json", "junit", "latex", "wandb", "mlflow", "figures"}
    assert [b.name for b in plan_run(cfg, CATALOG)] == cfg.suite.benchmarks
    stored = config_to_dict(cfg)  # what a run stores: plain values, enums as strings
    assert stored["profile"]["isolation"] == "process" and stored["ci"]["max_trials"] == cfg.ci.max_trials


def test_subset_extra_and_param_overrides_need_no_plus() -> None:
    cfg = _cfg("benchmarks=[matmul]", "extra_benchmarks=[softmax]", "params.matmul.n=512", "params.softmax.cols=[8,16]")
    plan = plan_run(cfg, CATALOG)
    assert [b.name for b in plan] == ["matmul", "softmax"]
    assert plan[0].cases == ({"n": 512, "dtype": "float32"},)  # a scalar is a one-point grid
    assert [c["cols"] for c in plan[1].cases] == [8, 16]


@pytest.mark.parametrize(
    "override, error",
    [
        ("profle=quick", ConfigCompositionException),
        ("profile.min_rounds=abc", ConfigCompositionException),
        ("profile.mode=fast", ConfigCompositionException),
        ("profile=quik", Exception),
        ("params.matmul.nn=5", ConfigCompositionException),
    ],
)
def test_schema_rejects_mistakes(override: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        _cfg(override)


def test_the_trial_statistic_is_best_or_median() -> None:
    from calibrax.ci import TrialStatistic

    assert load_config().ci.trial_statistic is TrialStatistic.best
    assert load_config({"ci": {"trial_statistic": "median"}}).ci.trial_statistic is TrialStatistic.median
    with pytest.raises(ConfigError, match=r"ci.trial_statistic.*'worst', expected one of \[best, median\]"):
        load_config({"ci": {"trial_statistic": "worst"}})


def test_unknown_benchmark_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="Unknown benchmark 'matmull'. Did you mean 'matmul'"):
        plan_run(_cfg("benchmarks=[matmull]"), CATALOG)
    with pytest.raises(ConfigError, match="No benchmarks to run"):
        plan_run(_cfg("benchmarks=[]"), CATALOG)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["profle=quick"], "Unknown config key 'profle'. Did you mean 'profile'"),
        (["params.matmu.n=1"], "Unknown benchmark 'matmu'. Did you mean 'matmul'"),
        (["params.matmul.nn=1"], "has no param 'nn'. Its params are: dtype, n."),
        (["profile.timr=device"], "profile has no key 'timr'. Did you mean 'profile.timer'?"),
        (["exporter.html.titel=x"], "exporter.html has no key 'titel'. Did you mean 'exporter.html.title'?"),
        (["+profile.min_round=5"], "profile has no key 'min_round'. Did you mean 'profile.min_rounds'"),
        (["+profile.min_rounds=5"], "needs no '\\+'.*write 'profile.min_rounds=5'"),
        (["+extra.key=1"], "Unknown config key 'extra'"),
        (["+params.matmul.k=3"], "has no param 'k'"),
        (["profile.carbon.intensty=300"], r"profile.carbon has no key 'intensty'. Did you mean "
         r"'profile.carbon.intensity'\?.*commented in calibrax/profiling/options.py"),
        (["profile.tracing.call=2"], "profile.tracing has no key 'call'. Did you mean 'profile.tracing.calls'?"),
        (["profile.carbon_intensity=300"], "profile.carbon_intensity is now profile.carbon.intensity: write 'profile.carbon.intensity=300'"),
    ],
)
def test_override_precheck_names_the_mistake(argv: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_overrides(argv, KNOWN)


def test_override_precheck_leaves_valid_and_hydra_syntax_alone() -> None:
    check_overrides(["-m", "hydra/launcher=basic", "~ci", "params.matmul.n=1,2", "exporter@x=html",
                     "++profile.min_rounds=5", "+thresholds.measures.energy={margin:0.1}",
                     "+thresholds.measures.time.rule=absolute", "+hydra.launcher.partition=debug",
                     "hardware.peak_flops.bf16=1e15", "--shell-completion", "install=bash", "--cfg", "job"], KNOWN)


def test_exit_code_priority() -> None:
    assert combine_exit_codes([]) == 0
    assert combine_exit_codes([0, 1]) == 1
    assert combine_exit_codes([1, 3, 0]) == 3
    assert combine_exit_codes([3, 2]) == 2


def test_each_profilers_options_are_one_group_with_its_defaults() -> None:
    from calibrax.profiling import CarbonOptions, ProfilingOptions, TracingOptions
    from calibrax.runner.profilers import profiling_options

    assert _cfg().profile.carbon == CarbonOptions() and _cfg().profile.tracing == TracingOptions()
    assert ProfilingOptions().carbon_intensity == CarbonOptions().intensity  # the record's defaults are the group's
    cfg = _cfg("profile.carbon.intensity=300", "profile.carbon.pue=1.2", "profile.tracing.calls=5",
               "profile.carbon.backend=codecarbon", "profile.carbon.country=FRA")
    options = profiling_options(cfg)
    assert (options.carbon_intensity, options.pue, options.trace_calls) == (300.0, 1.2, 5)
    assert (options.carbon_backend, options.carbon_country) == ("codecarbon", "FRA")
    assert config_to_dict(cfg)["profile"]["carbon"]["backend"] == "codecarbon"  # stored as plain values
    with pytest.raises(ConfigCompositionException):
        _cfg("profile.carbon.backend=coal")
