# Developer tasks. `make test` is what CI runs (.ci/run); `make demo` shows both connectors.
#
#   make venv     .venv with the package and its test extras (re-installs when pyproject.toml changes)
#   make meltano  .venv-meltano with Meltano (kept apart: Meltano pins its own dependencies)
#   make airbyte  .venv-airbyte with PyAirbyte (kept apart too; tests/test_pyairbyte.py uses it)
#   make test     lint, format check, type check and the test suite
#   make demo     ERP sample -> target-billcom -> BILL emulator -> tap-billcom -> DuckDB, via Meltano
#   make clean    remove what the demo leaves behind (output/, .meltano/; not the venvs)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
MELTANO_VENV := .venv-meltano
MELTANO_VERSION := 4.4.1
AIRBYTE_VENV := .venv-airbyte
# PyAirbyte (PyPI `airbyte`); keep in step with tests/test_pyairbyte.py. About 2 minutes to
# install, once: the stamp keeps a warm `make airbyte` from doing anything.
PYAIRBYTE_VERSION := 0.71.3
# duckdb for the demo's queries: the same version target-duckdb is pinned to in meltano.yml.
DUCKDB_VERSION := 1.2.2
PIP := $(VENV)/bin/python -m pip --disable-pip-version-check

.PHONY: venv meltano airbyte test lint demo clean

venv: $(VENV)/.installed

# The stamp depends on pyproject.toml, so a warm `make venv` does nothing.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python >= 3.10 is needed; $(PYTHON) is $$($(PYTHON) -V 2>&1). Try: make PYTHON=python3.11" >&2; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[test]'
	@touch $@

meltano: $(MELTANO_VENV)/.installed

$(MELTANO_VENV)/.installed:
	@test -x $(MELTANO_VENV)/bin/python || $(PYTHON) -m venv $(MELTANO_VENV)
	@echo '*' > $(MELTANO_VENV)/.gitignore
	$(MELTANO_VENV)/bin/python -m pip --disable-pip-version-check install --quiet meltano==$(MELTANO_VERSION)
	@touch $@

airbyte: $(AIRBYTE_VENV)/.installed

$(AIRBYTE_VENV)/.installed:
	@test -x $(AIRBYTE_VENV)/bin/python || $(PYTHON) -m venv $(AIRBYTE_VENV)
	@echo '*' > $(AIRBYTE_VENV)/.gitignore
	$(AIRBYTE_VENV)/bin/python -m pip --disable-pip-version-check install --quiet airbyte==$(PYAIRBYTE_VERSION)
	@touch $@

$(VENV)/.duckdb-$(DUCKDB_VERSION): $(VENV)/.installed
	$(PIP) install --quiet duckdb==$(DUCKDB_VERSION)
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bill_core tap_billcom target_billcom bill_emulator source_billcom

# tests/test_meltano.py runs Meltano from .venv-meltano, tests/test_pyairbyte.py PyAirbyte
# from .venv-airbyte (each would create its venv too, but slower).
test: lint meltano airbyte
	$(VENV)/bin/pytest

demo: venv meltano $(VENV)/.duckdb-$(DUCKDB_VERSION)
	$(VENV)/bin/python scripts/demo.py

clean:
	rm -rf output .meltano
