# make run: create .venv if missing, install calibrax, run the default suite.
# make test: create .venv if missing, install with the dev extra, run every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=
WORKERS ?= 2

.PHONY: run test lint typecheck clean

# The venv's pip installs uv, which installs the rest: it resolves the same versions as pip
# (no lock file either way) in well under a minute where pip takes several on two cores.
# --compile-bytecode writes the .pyc files that pip would: where PYTHONDONTWRITEBYTECODE is set,
# a venv without them compiles jax, scipy & co. from source in every process (import jax 3 s, not 1 s).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv

INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(VENV)/.installed: pyproject.toml | $(BIN)/uv
	$(INSTALL) -e . || $(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/uv
	$(INSTALL) -e ".[dev]" || $(BIN)/python -m pip install --quiet -e ".[dev]"   # pip where uv cannot reach an index
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/calibrax-run $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check calibrax tests benchmarks hydra_plugins

typecheck: $(VENV)/.installed-dev
	$(BIN)/python -m mypy

test: $(VENV)/.installed-dev
	scripts/system-deps.sh
	scripts/slurm-local.sh   # a one-node SLURM cluster for tests/e2e/test_slurm.py
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check calibrax tests benchmarks hydra_plugins
	$(BIN)/python -m compileall -q calibrax hydra_plugins   # each test's calibrax-run would compile them again
	PY=$(BIN)/python WORKERS=$(WORKERS) scripts/run-tests.sh   # mypy and the SLURM e2e beside the other tests, then the serial timing tests alone

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache outputs multirun
