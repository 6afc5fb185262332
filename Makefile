# Task runner. `make demo` and `make test` are the two commands in the README.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench contract clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed  ## install, then build a demo store and show the chronic callers
	$(BIN)/recontact demo

test: $(VENV)/.installed-dev  ## install with dev extras, then run every test
	$(BIN)/pytest

lint: $(VENV)/.installed-dev  ## ruff and mypy, as CI runs them
	$(BIN)/ruff check src tests bench docs
	$(BIN)/mypy

bench: $(VENV)/.installed  ## import and report timings against plain DuckDB (1M and 10M contacts)
	$(BIN)/python bench/bench.py

contract: $(VENV)/.installed  ## the CLI's JSON contract (shapes only)
	../shared/tools/contract-check $(BIN)/recontact

clean:
	rm -rf $(VENV) recontact-demo.duckdb recontact-demo.csv bench/out .pytest_cache .mypy_cache .ruff_cache
