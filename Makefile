# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing (torch first: the CPU build on disk).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cgalib-installed

.PHONY: test demo docs lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cgalib tests benchmarks examples configs

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: $(STAMP)
	$(BIN)/ruff check cgalib tests benchmarks examples configs
	$(BIN)/python -m pytest
	CGALIB_FAST=1 $(BIN)/python -m pytest --nbmake notebooks/ -q
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

demo: $(STAMP)
	$(BIN)/python -m cgalib.cli demo

clean:
	rm -rf site demo .pytest_cache
