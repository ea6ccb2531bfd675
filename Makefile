# Entry points for a fresh machine: `make demo`, `make test` and `make bench`.
# `demo` and `test` create .venv when missing (torch first: the CPU build on disk); `test` also
# installs Chromium when missing, where it can (see `chromium`).
# `bench` creates its own .venv-peers (torch 2.14.1, torchvision, timm) and never touches .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cgalib-installed
PEERS := .venv-peers
PEERS_STAMP := $(PEERS)/.cgalib-installed
BENCH_ARGS ?= --device cpu --threads 2 --write-docs docs/benchmarks.md \
	--out benchmarks/results/peers_cpu.json

.PHONY: test demo docs notebooks lint bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cgalib tests benchmarks examples configs

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Executes the four notebooks and writes their pages, outputs included, into docs/notebooks/
# (the .ipynb files stay without outputs); tests/test_docs_site.py names pages older than
# their notebook. `make notebooks CGALIB_FAST=1` for the quick sizes.
notebooks: $(STAMP)
	$(BIN)/python docs/scripts/render_notebooks.py

# Chromium for tests/test_site_browser.py (every page of the site opened from disk): installed
# with apt-get when missing and this runs as root, else the command is printed and that one
# check is skipped, naming it.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
	  || command -v google-chrome >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the site's browser check"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "could not install chromium: the site's browser check will be skipped"; \
	  else \
	    echo "the site's browser check needs Chromium: sudo apt-get install -y chromium"; \
	  fi; }

# Notebooks run with docs/scripts/nbclient_wakeup.py loaded (-p): without it a kernel reply whose
# wake-up the client missed waited out nbmake's 300 s cell timeout.
test: $(STAMP) chromium
	$(BIN)/ruff check cgalib tests benchmarks examples configs
	$(BIN)/python -m pytest
	CGALIB_FAST=1 PYTHONPATH=docs/scripts $(BIN)/python -m pytest -p nbclient_wakeup --nbmake notebooks/ -q
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The peers' environment: torchvision 0.29.1 needs torch 2.14.1, which .venv does not hold.
$(PEERS_STAMP): pyproject.toml
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1 timm
	$(PEERS)/bin/python -m pip install --quiet -e .
	touch $(PEERS_STAMP)

# CGANet against Keypoint R-CNN, SimpleBaseline and HRNet on the CPU, one process per
# training row; writes the tables into docs/benchmarks.md (override BENCH_ARGS to change).
bench: $(PEERS_STAMP)
	$(PEERS)/bin/python benchmarks/peers.py $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/python -m cgalib.cli demo

clean:
	rm -rf site demo .pytest_cache
