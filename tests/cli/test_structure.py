"""The CLI's shape: no import cycle, main only assembles, small files and functions, every
module's commands registered in the group."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
import pytest

import calibrax.cli
from calibrax.cli import cli

CLI_DIR = Path(calibrax.cli.__file__).parent
MODULES = sorted(f"calibrax.cli.{p.stem}" for p in CLI_DIR.glob("*.py") if p.stem != "__init__")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 50


def _source(module: str) -> ast.Module:
    return ast.parse((CLI_DIR / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8"))


def _cli_imports(module: str) -> set[str]:
    """The calibrax.cli modules ``module`` imports anywhere, inside functions included."""
    out = set()
    for node in ast.walk(_source(module)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("calibrax.cli"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            out |= {n for n in names if n in MODULES} or {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("calibrax.cli")}
    return out - {module}


def test_the_cli_modules_import_each_other_without_a_cycle() -> None:
    graph = {m: _cli_imports(m) for m in MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in graph.get(module, ()):
            visit(dep, (*path, module))
        done.add(module)

    for module in MODULES:
        visit(module, ())


def test_only_the_package_imports_main_and_every_command_module_needs_only_common() -> None:
    for module in MODULES:
        deps = _cli_imports(module)
        assert "calibrax.cli.main" not in deps, f"{module} imports calibrax.cli.main"
        if module != "calibrax.cli.main":
            assert deps <= {"calibrax.cli._common"}, f"{module} imports {sorted(deps)}"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_on_its_own(module: str) -> None:
    assert importlib.import_module(module).__all__


@pytest.mark.parametrize("module", MODULES)
def test_files_and_functions_stay_small(module: str) -> None:
    tree = _source(module)
    lines = (CLI_DIR / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_FILE_LINES, f"{module} has {lines} lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{module}.{node.name} has {length} lines"


def test_every_command_a_module_exports_is_in_the_group() -> None:
    registered = set(cli.commands.values())
    for module in MODULES:
        if module == "calibrax.cli.main":
            continue
        mod = importlib.import_module(module)
        commands = [getattr(mod, n) for n in mod.__all__ if isinstance(getattr(mod, n), click.Command)]
        assert all(c in registered for c in commands), f"{module} has a command missing from the group"


def test_main_only_assembles_the_group() -> None:
    defs = [n.name for n in _source("calibrax.cli.main").body if isinstance(n, ast.FunctionDef)]
    assert defs == ["cli", "main"]
