# Two commands set everything up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp carries a hash of pyproject.toml, so a second run reuses .venv and only a
# changed dependency list reinstalls.
PORT   ?= 5000
HASH   := $(shell cat pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
STAMP  := $(VENV)/.installed-$(HASH)
TSTAMP := $(VENV)/.installed-test-$(HASH)

.PHONY: run test lint venv install install-test system-deps demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	rm -f $(VENV)/.installed-*; touch $@

$(TSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*; touch $(STAMP) $@

install: $(STAMP)
install-test: $(TSTAMP)

# Debian packages the test suite drives for real (PostgreSQL server, Chromium).
system-deps:
	@bash scripts/system-deps.sh

# A local trial needs no secret key: development mode keeps a generated one in the instance.
run demo: export LIENHOP_ENV ?= development
# The demo repositories are served on 127.0.0.1, which the harvester refuses unless allowed.
run demo: export LIENHOP_HARVEST_ALLOWED_NETWORKS ?= 127.0.0.0/8

demo: install
	$(BIN)/lienhop demo load

# The web server, a harvest worker ("harvest now" in /admin) and the demo repositories'
# OAI-PMH endpoints, as one command: Ctrl-C stops them all (resolver/cli/supervise.py).
run: demo
	$(BIN)/lienhop demo run --host 127.0.0.1 --port $(PORT)

# Style, the architecture's layers and cycles (import-linter) and types (mypy) are checked
# before the tests; their settings are in pyproject.toml.
test: install-test system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache
