"""What the plugin's options and markers ask for, checked before any test runs.

:func:`load_settings` turns the ``--calibrax-*`` options into :class:`PluginSettings`;
:func:`profile_config` reads a timing profile (``conf/profile/NAME.yaml``, the user's
``./conf`` first, then calibrax's own) and the gate's default thresholds into the typed config
that a run stores, so a pytest session is timed and judged as ``calibrax-run profile=NAME``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from calibrax.core.errors import ConfigError
from calibrax.runner.catalog import config_dirs
from calibrax.runner.config import CalibraxConfig, load_config

__all__ = ["PluginSettings", "available_profiles", "checked_settings", "marker_options", "profile_config"]


@dataclass(frozen=True)
class PluginSettings:
    """The plugin's options for one pytest session.

    Attributes:
        db: the store file (absolute).
        profile: the timing profile's name (``conf/profile/NAME.yaml``).
        baseline: gate the session against this named baseline, or None.
        summary: write a Markdown summary of the run here, or None.
        save: point this baseline at the session's run when it ends, or None.
        cwd: the folder pytest started in (``./conf`` is looked up there).
    """

    db: Path
    profile: str
    baseline: str | None = None
    summary: Path | None = None
    save: str | None = None
    cwd: Path = Path(".")


def available_profiles(cwd: Path) -> list[str]:
    """The profile names found in the config folders, sorted.

    Example:
        >>> "quick" in available_profiles(Path("."))
        True
    """
    return sorted({p.stem for d in config_dirs(cwd) for p in (d / "profile").glob("*.yaml")})


def _group_file(cwd: Path, group: str, name: str) -> Path:
    for folder in config_dirs(cwd):
        candidate = folder / group / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for d in config_dirs(cwd) for p in (d / group).glob("*.yaml")})
    raise ConfigError(f"Unknown calibrax {group} {name!r}; pick one of {', '.join(known)} "
                      f"(conf/{group}/NAME.yaml, in ./conf or calibrax's own).")


def _yaml(path: Path) -> dict[str, Any]:
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of profile keys, got {type(data).__name__}.")
    return {str(k): v for k, v in data.items()}


@functools.cache
def _profile_config(cwd: Path, name: str, profilers: tuple[str, ...] | None) -> CalibraxConfig:
    profile = _yaml(_group_file(cwd, "profile", name))
    if profilers is not None:
        profile["profilers"] = list(profilers)
    profile["isolation"] = "none"  # each timed call runs in the test's own process
    thresholds = _yaml(_group_file(cwd, "thresholds", "default"))
    return load_config({"profile": profile, "thresholds": thresholds,
                        "suite": {"name": "pytest", "description": "cases timed by the calibrax pytest plugin"},
                        "exporters": []})


def profile_config(cwd: Path, name: str, profilers: Sequence[str] | None = None) -> CalibraxConfig:
    """The typed config of a pytest run timed with profile ``name`` (and these profilers).

    Raises:
        ConfigError: no ``conf/profile/NAME.yaml``, or a key of it that the schema refuses.

    Example:
        >>> profile_config(Path("."), "quick").profile.min_rounds
        5
    """
    return _profile_config(cwd.resolve(), name, tuple(profilers) if profilers is not None else None)


def marker_options(kwargs: Mapping[str, Any], where: str) -> tuple[str | None, list[str] | None, dict[str, Any]]:
    """``profile``, ``profilers`` and ``params`` of a ``@pytest.mark.calibrax(...)``, checked.

    Raises:
        ConfigError: an unknown keyword or a value of the wrong type, naming the test.

    Example:
        >>> marker_options({"profile": "quick", "params": {"n": 8}}, "test_x")
        ('quick', None, {'n': 8})
    """
    unknown = sorted(set(kwargs) - {"profile", "profilers", "params"})
    if unknown:
        raise ConfigError(f"{where}: @pytest.mark.calibrax takes profile=, profilers= and params=; "
                          f"got {', '.join(unknown)}.")
    profile, profilers, params = kwargs.get("profile"), kwargs.get("profilers"), kwargs.get("params", {})
    if profile is not None and not isinstance(profile, str):
        raise ConfigError(f"{where}: @pytest.mark.calibrax(profile=...) takes a profile name such as 'quick', "
                          f"got {profile!r}.")
    if profilers is not None and (isinstance(profilers, str) or not isinstance(profilers, Sequence)
                                  or not all(isinstance(p, str) for p in profilers)):
        raise ConfigError(f"{where}: @pytest.mark.calibrax(profilers=...) takes a list of profiler names "
                          f"such as ['timing', 'flops'], got {profilers!r}.")
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}: @pytest.mark.calibrax(params=...) takes a mapping of param name to value "
                          f"such as {{'n': 512}}, got {params!r}.")
    return profile, list(profilers) if profilers is not None else None, dict(params)


def checked_settings(config: Any, cwd: Path) -> PluginSettings:
    """The session's settings from its pytest options, checked before any test runs.

    The profile must exist and load; a ``--calibrax-baseline`` must name a baseline of the
    store (checked in the controller or the only process, not in each xdist worker).

    Raises:
        ConfigError: an unknown profile or one with a bad key.
        NotFoundError: the baseline is not in the store.
    """
    from calibrax.storage import Store

    option = config.getoption
    db = Path(option("--calibrax-db") or os.environ.get("CALIBRAX_DB") or "calibrax.db")
    summary = option("--calibrax-summary")
    settings = PluginSettings(
        db=(db if db.is_absolute() else cwd / db).resolve(),
        profile=option("--calibrax-profile") or "standard",
        baseline=option("--calibrax-baseline"),
        summary=(cwd / summary).resolve() if summary else None,
        save=option("--calibrax-save"),
        cwd=cwd,
    )
    cfg = profile_config(cwd, settings.profile)
    from calibrax.runner.profilers import check_profilers

    check_profilers(cfg.profile)
    if settings.baseline and not hasattr(config, "workerinput"):
        with Store.open(settings.db, busy_timeout=cfg.store.busy_timeout) as store:
            store.get_baseline(settings.baseline)
    return settings
