"""Package-wide checks: docstring examples run, and the store commands stay JAX-free."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import calibrax

_SKIP = {"calibrax.runner._worker"}  # a process entry point; its protocol is tested end to end
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(calibrax.__path__, "calibrax.") if m.name not in _SKIP
)
WITH_EXAMPLES = [m for m in MODULES if doctest.DocTestFinder().find(importlib.import_module(m)) and any(
    t.examples for t in doctest.DocTestFinder().find(importlib.import_module(m)))]


@pytest.mark.parametrize("module", WITH_EXAMPLES)
def test_docstring_examples_run(module: str, clean_registry: None) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_most_modules_carry_examples() -> None:
    assert len(WITH_EXAMPLES) >= 20, WITH_EXAMPLES


def test_store_commands_and_help_do_not_import_jax(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = f"""
import sys
from click.testing import CliRunner
from calibrax.cli import cli
from calibrax.storage import Store
Store.open({str(tmp_path / 'x.db')!r}).close()
for args in (["--help"], ["runs", "--db", {str(tmp_path / 'x.db')!r}], ["baseline", "list", "--db", {str(tmp_path / 'x.db')!r}]):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
print(sorted(m for m in sys.modules if m == "jax" or m.startswith("jax.")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
