# buergerbot — the two commands a city's IT needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-fast lint bench clean system-deps

# Installs (again) only when the lock files or pyproject changed since the last install.
install: $(VENV)/.installed
$(VENV)/.installed: requirements/lock.txt requirements/rasa.txt pyproject.toml scripts/install.sh
	PYTHON=$(PYTHON) bash scripts/install.sh

# Installs what is missing, trains and indexes if stale, starts the whole stack on the sample city.
run: install
	$(BIN)/buergerbot run $(ARGS)

# Installs what is missing and runs every test.
test: install system-deps
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# What the tests drive for real besides Python: espeak-ng (synthetic speech for Vosk),
# PostgreSQL (handoff store), Chromium + axe-core (browser tests). Installed only when missing.
SYSTEM_PACKAGES := espeak-ng postgresql
system-deps:
	@bash scripts/system-deps.sh $(SYSTEM_PACKAGES)
	@bash scripts/web-test-deps.sh

test-fast: install
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check bot retrieval voice tests bench

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var .pytest_cache
