"""Each exporter's settings: one dataclass holds every default, conf/exporter/*.yaml shows the same
values, the composed config becomes the dataclasses, and a run stores them as plain dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from calibrax.core import ConfigError, ExporterError, RunInfo, RunRecord, RunStatus
from calibrax.exporters import EXPORTERS, HtmlSettings, get_exporter, report_settings, settings_from_mapping
from calibrax.runner.app import known_params
from calibrax.runner.catalog import discover_benchmarks, package_conf_dir
from calibrax.runner.config import ExporterSettings, config_to_dict, load_config, register_configs

CONF = package_conf_dir() / "exporter"
YAMLS = sorted(CONF.glob("*.yaml"))


def test_every_shipped_exporter_has_a_yaml_and_a_field() -> None:
    shipped = {f.name for f in dataclasses.fields(ExporterSettings)} - {"plugins"}
    assert {p.stem for p in YAMLS} == shipped
    assert shipped <= set(EXPORTERS.names())
    for name in shipped:
        field = {f.name: f for f in dataclasses.fields(ExporterSettings)}[name]
        assert isinstance(getattr(ExporterSettings(), name), get_exporter(name).settings_type), field


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_values_equal_the_dataclass_defaults(path: Path) -> None:
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kind = get_exporter(path.stem).settings_type
    defaults = dataclasses.asdict(kind())
    assert set(values) <= set(defaults), f"{path.name} has keys its dataclass lacks: {set(values) - set(defaults)}"
    for key, value in values.items():
        assert value == defaults[key], f"{path.name}: {key} is {value!r} there but {defaults[key]!r} in {kind.__name__}"


@pytest.mark.parametrize("name", [p.stem for p in YAMLS])
def test_every_field_has_a_comment(name: str) -> None:
    import inspect

    kind = get_exporter(name).settings_type
    source = inspect.getsource(kind)
    for field in dataclasses.fields(kind):
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{field.name}:"))
        assert "  # " in line, f"{kind.__name__}.{field.name} needs a comment: meaning, unit, allowed values"
        assert "_target_" not in line


@pytest.fixture
def composed() -> Iterator[None]:
    register_configs(known_params(discover_benchmarks()))
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(package_conf_dir()), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def test_the_composed_config_becomes_the_dataclasses_and_stores_as_plain_dicts(composed: None) -> None:
    cfg = load_config(compose("calibrax", overrides=["exporter.html.history_runs=7", "exporter.latex.mode=fragment"]))
    assert isinstance(cfg.exporter, ExporterSettings) and isinstance(cfg.exporter.html, HtmlSettings)
    assert cfg.exporter.html.history_runs == 7 and cfg.exporter.latex.mode == "fragment"
    assert cfg.exporter["figures"].formats == ["pdf", "svg"] and "json" in set(cfg.exporter)
    stored = config_to_dict(cfg)["exporter"]
    assert stored["html"]["history_runs"] == 7 and stored["html"]["title"] is None
    assert isinstance(stored["latex"], dict) and stored["json"] == {} and stored["plugins"] == {}
    run = RunInfo("r1", "", RunStatus.OK, config={"exporter": stored})
    assert report_settings(RunRecord(run, ()), "latex")["mode"] == "fragment"


def test_an_unknown_setting_is_a_config_error_naming_the_key(composed: None) -> None:
    with pytest.raises(Exception, match="titel"):
        compose("calibrax", overrides=["exporter.html.titel=x"])
    with pytest.raises(ConfigError, match=r"exporter\.html\.titel"):
        load_config({"exporter": {"html": {"titel": "x"}}})
    with pytest.raises(ConfigError, match=r"exporter\.htm"):
        load_config({"exporter": {"htm": {}}})


def test_the_hint_for_load_config_names_the_allowed_keys() -> None:
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigKeyError

    from calibrax.runner.config import CalibraxConfig, unknown_key_hint

    with pytest.raises(ConfigKeyError) as caught:
        OmegaConf.merge(OmegaConf.structured(CalibraxConfig), {"exporter": {"latex": {"mdoe": "x"}}})
    assert unknown_key_hint(caught.value) == (" Allowed keys: mode, measures, uncertainty, best, split, max_columns, "
                                              "environment, caption, label, title, template_dir.")


def test_a_stored_mapping_with_an_unknown_key_names_the_allowed_ones() -> None:
    with pytest.raises(ExporterError, match=r"no setting 'titel'\. Its settings are: title, template_dir, history_runs"):
        settings_from_mapping(HtmlSettings, {"titel": "x"}, "html")
    with pytest.raises(ExporterError, match="changepoint_alpha"):
        get_exporter("html").render(RunRecord(RunInfo("r1", "", RunStatus.OK), ()), {"changepoint_alpha": 2})


def test_plugin_settings_ride_under_plugins_and_index_by_name() -> None:
    cfg = load_config({"exporter": {"plugins": {"slides": {"theme": "dark"}}}})
    assert cfg.exporter["slides"] == {"theme": "dark"}
    assert list(cfg.exporter)[-1] == "slides" and cfg.exporter.by_name()["html"] == HtmlSettings()
