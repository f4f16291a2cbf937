from __future__ import annotations

import pytest

from calibrax.core import CalibraxError, NotFoundError, Registry, close_matches, unknown_name_message


def test_register_get_and_list() -> None:
    reg: Registry[int] = Registry("widget", "calibrax.test_widgets")
    reg.register("one", 1)
    reg.register("two")(2)
    assert reg.get("two") == 2
    assert reg.names() == ["one", "two"]
    assert "one" in reg and "three" not in reg
    assert len(reg) == 2


def test_unknown_name_lists_close_matches_and_known_names() -> None:
    reg: Registry[int] = Registry("widget", "calibrax.test_widgets")
    reg.register("matmul", 1)
    reg.register("mlp_forward", 2)
    with pytest.raises(NotFoundError) as err:
        reg.get("matmull")
    msg = str(err.value)
    assert "Unknown widget 'matmull'" in msg
    assert "Did you mean 'matmul'?" in msg
    assert "Known widgets: matmul, mlp_forward." in msg


def test_duplicate_name_is_refused_unless_replaced() -> None:
    reg: Registry[object] = Registry("widget", "calibrax.test_widgets")
    reg.register("a", object())
    with pytest.raises(CalibraxError, match="already registered"):
        reg.register("a", object())
    other = object()
    assert reg.register("a", other, replace=True) is other


def test_same_definition_imported_twice_is_accepted() -> None:
    reg: Registry[object] = Registry("widget", "calibrax.test_widgets")

    def factory() -> None: ...

    reg.register("f", factory)
    reg.register("f", factory)
    assert reg.get("f") is factory


def test_entry_point_plugins_are_loaded_on_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    ep = metadata.EntryPoint(name="plugged", value="math:sqrt", group="calibrax.test_plugins")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [ep] if group == "calibrax.test_plugins" else [])
    reg: Registry[object] = Registry("widget", "calibrax.test_plugins")
    import math

    assert reg.get("plugged") is math.sqrt
    assert reg.names() == ["plugged"]


def test_broken_plugin_does_not_hide_others(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    eps = [
        metadata.EntryPoint(name="broken", value="no_such_module_xyz:thing", group="g"),
        metadata.EntryPoint(name="fine", value="math:floor", group="g"),
    ]
    monkeypatch.setattr(metadata, "entry_points", lambda group: eps if group == "g" else [])
    reg: Registry[object] = Registry("widget", "g")
    assert reg.names() == ["fine"]


def test_message_helpers() -> None:
    assert close_matches("softmx", ["softmax", "matmul"]) == ["softmax"]
    assert unknown_name_message("benchmark", "x", []) == "Unknown benchmark 'x'. Known benchmarks: (none registered)."
