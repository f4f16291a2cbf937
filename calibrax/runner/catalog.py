"""Where configs live, and the benchmarks that ``conf/benchmark/*.yaml`` declare.

Two config folders are searched, the first one winning for a name both define:

1. ``./conf`` in the folder ``calibrax-run`` is started from (a user project), when it exists;
2. the ``conf/`` shipped with calibrax.

A benchmark file ``conf/benchmark/NAME.yaml`` declares ``source`` (a module name, or a ``.py``
path relative to the folder that holds that ``conf/``), ``params`` (name -> list of values),
and optionally ``description``, ``metrics``, ``thresholds`` and ``validation`` (checks on its
cases, see :mod:`calibrax.validation.declared`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from calibrax.core.errors import ConfigError
from calibrax.core.registry import unknown_name_message
from calibrax.runner.config import BenchmarkFileConfig

__all__ = [
    "BenchmarkEntry",
    "check_group_files",
    "config_dirs",
    "discover_benchmarks",
    "package_conf_dir",
    "user_conf_dir",
]


def package_conf_dir() -> Path:
    """The ``conf/`` folder shipped with calibrax (inside the wheel, or the source checkout)."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "_data" / "conf"
    return shipped if shipped.is_dir() else here.parent / "conf"


def user_conf_dir(cwd: Path | None = None) -> Path | None:
    """``./conf`` of the current folder when it exists and is not calibrax's own."""
    candidate = ((cwd or Path.cwd()) / "conf").resolve()
    if candidate.is_dir() and candidate != package_conf_dir().resolve():
        return candidate
    return None


def config_dirs(cwd: Path | None = None) -> list[Path]:
    """Config folders in search order: the user's ``./conf`` first, then calibrax's."""
    user = user_conf_dir(cwd)
    return [d for d in (user, package_conf_dir()) if d is not None]


@dataclass(frozen=True)
class BenchmarkEntry:
    """A benchmark declared in YAML.

    Attributes:
        name: the file stem, which is also the registry name the source must register.
        source: the module name or ``.py`` file (absolute) that registers it.
        params: the default grid, param name -> list of values.
        config_file: the YAML file it came from.
    """

    name: str
    source: str
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    metrics: tuple[str, ...] = ()
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    config_file: Path | None = None
    validation: Mapping[str, Any] = field(default_factory=dict)  # the raw validation: block
    allow_recompile: bool = False  # a compile during the timed rounds is kept, not an error
    problem: str | None = None  # why the file could not be read; an error only when it is selected
    params_declared: bool = True  # false: no params: key, so the decorator's params= is the grid


def discover_benchmarks(cwd: Path | None = None) -> dict[str, BenchmarkEntry]:
    """Every benchmark declared in the config folders, by name (the user's shadow calibrax's).

    A file that cannot be read is kept as an entry with its ``problem``: selecting that
    benchmark is a ConfigError, and a run that does not select it only warns.
    """
    found: dict[str, BenchmarkEntry] = {}
    for conf in reversed(config_dirs(cwd)):
        folder = conf / "benchmark"
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                found[path.stem] = load_benchmark_entry(path)
            except ConfigError as exc:
                found[path.stem] = BenchmarkEntry(path.stem, "", config_file=path, problem=str(exc))
    return found


_EXPECTED = {
    "source": "a module name (mybench) or a .py path",
    "description": "a string",
    "params": "a mapping of param names to lists of values",
    "metrics": "a list of metric names (or mappings with name, predictions, targets, kwargs)",
    "thresholds": "a mapping of measure names to margins",
    "validation": "a mapping with gate (true or false) and checks (a list of convergence and accuracy checks)",
    "allow_recompile": "true or false",
}


def _check_keys(path: Path, raw: DictConfig) -> None:
    """Name the first unknown key of a benchmark file."""
    allowed = [f.name for f in fields(BenchmarkFileConfig)]
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"Benchmark config {path}: " + unknown_name_message("key", str(key), allowed))


def _mistyped_key(path: Path, raw: DictConfig) -> ConfigError:
    """The error naming the first mistyped key of a file whose whole merge failed, checked one
    key at a time (only then: each check builds the schema again, about 10 ms)."""
    for key in raw:
        try:
            OmegaConf.merge(OmegaConf.structured(BenchmarkFileConfig), {key: raw[key]})
        except OmegaConfBaseException:
            node = raw[key]
            value = OmegaConf.to_container(node) if OmegaConf.is_config(node) else node
            return ConfigError(f"Benchmark config {path}: '{key!s}' must be {_EXPECTED[str(key)]}, got {value!r}.")
    return ConfigError(f"Benchmark config {path} does not match the benchmark file schema: {', '.join(_EXPECTED)}.")


def _check_interpolations(path: Path, raw: DictConfig) -> None:
    """Resolve every ``${...}`` of a benchmark file once, naming the key of the first that fails."""
    try:
        OmegaConf.to_container(raw, resolve=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "?"
        raise ConfigError(
            f"Benchmark config {path}: key {key!r} has an interpolation that does not resolve "
            f"({str(exc).splitlines()[0]}). Write a plain value, or ${{other.key}} naming a key of this file."
        ) from None


def load_benchmark_entry(path: Path) -> BenchmarkEntry:
    """Read and check one ``conf/benchmark/NAME.yaml``.

    Raises:
        ConfigError: the file is not a mapping, lacks ``source``, has an unknown key, or its
            params are not a mapping.
    """
    try:
        raw = OmegaConf.load(path)
    except Exception as exc:
        why = " ".join(str(exc).split())  # YAML's messages span lines; the CLI prints one
        raise ConfigError(f"Cannot read benchmark config {path}: {why}") from None
    if not isinstance(raw, DictConfig):
        raise ConfigError(f"Benchmark config {path} must be a mapping with 'source' and 'params'.")
    _check_interpolations(path, raw)
    _check_keys(path, raw)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(BenchmarkFileConfig), raw)
        data: dict[str, Any] = OmegaConf.to_container(merged, resolve=True, throw_on_missing=True)  # type: ignore[assignment]
    except MissingMandatoryValue:
        data = {"source": ""}
    except OmegaConfBaseException:
        raise _mistyped_key(path, raw) from None
    source = data["source"]
    if not source:
        raise ConfigError(
            f"Benchmark config {path} needs 'source': the module (e.g. mybench) or .py file "
            "(e.g. benchmarks/mybench.py) that registers it with @calibrax.benchmark."
        )
    if source.endswith(".py"):
        source = str((path.parent.parent.parent / source).resolve())
    return BenchmarkEntry(
        name=path.stem,
        source=source,
        params=data["params"],
        params_declared="params" in raw,
        description=data["description"],
        metrics=tuple(data["metrics"]),
        thresholds=data["thresholds"],
        config_file=path,
        validation=data["validation"],
        allow_recompile=bool(data["allow_recompile"]),
    )


def _yaml_problem(path: Path) -> str | None:
    """Why ``path`` is not valid YAML (with its line and column), or None."""
    import yaml

    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return f"Cannot read {path}:{where}: {problem}. Fix the YAML syntax there."
    except (OSError, UnicodeDecodeError) as exc:
        return f"Cannot read {path}: {exc}."
    return None


def _chosen_options(argv: list[str]) -> dict[str, list[str]]:
    """Config group -> the options this command line picks (the primary config's defaults,
    then ``group=option`` overrides; a ``-m`` sweep's ``a,b`` lists each)."""
    chosen: dict[str, list[str]] = {}
    primary = OmegaConf.load(package_conf_dir() / "calibrax.yaml")
    defaults = primary.get("defaults", []) if isinstance(primary, DictConfig) else []
    for item in defaults:
        if isinstance(item, DictConfig):
            for group, option in item.items():
                options = option if OmegaConf.is_list(option) else [option]
                chosen[str(group)] = [str(o) for o in options]
    for arg in argv:
        key, sep, value = arg.lstrip("+").partition("=")
        if sep and "." not in key and not arg.startswith(("-", "~")) and not value.startswith("["):
            chosen[key] = [v.strip() for v in value.split(",") if v.strip()]
    return chosen


def check_group_files(argv: list[str], cwd: Path | None = None) -> None:
    """Read the YAML file of every config group option the command line selects, so a syntax
    error is one line naming the file, line and column instead of Hydra's traceback.

    Raises:
        ConfigError: a selected option's file is not valid YAML.
    """
    dirs = config_dirs(cwd)
    for group, options in _chosen_options(argv).items():
        if group in ("benchmark", "hydra") or "/" in group:
            continue
        for option in options:
            path = next((d / group / f"{option}.yaml" for d in dirs if (d / group / f"{option}.yaml").is_file()), None)
            problem = _yaml_problem(path) if path is not None else None
            if problem:
                raise ConfigError(problem)
