# buergerbot — the two commands a city's IT needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run run-cluster test test-fast lint bench clean system-deps tools audit

# Installs (again) only when the lock files or pyproject changed since the last install.
install: $(VENV)/.installed
$(VENV)/.installed: requirements/lock.txt requirements/rasa.txt pyproject.toml scripts/install.sh
	PYTHON=$(PYTHON) bash scripts/install.sh

# Installs what is missing, trains and indexes if stale, starts the whole stack on the sample city.
run: install
	$(BIN)/buergerbot run $(ARGS)

# The same with PostgreSQL, Redis, 2 action servers, 2 Rasa servers and 2 gateways behind nginx
# on one machine (docs/DEPLOYMENT.md); installs the Debian packages it needs when missing.
CLUSTER_PACKAGES := postgresql redis-server nginx
run-cluster: install
	@bash scripts/system-deps.sh $(CLUSTER_PACKAGES)
	$(BIN)/buergerbot cluster $(ARGS)

# Installs what is missing and runs every test.
test: install system-deps audit
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# What the tests drive for real besides Python: espeak-ng (synthetic speech for Vosk),
# PostgreSQL (handoff store), Redis and nginx (cluster), Chromium + axe-core (browser tests).
# Installed only when missing.
SYSTEM_PACKAGES := espeak-ng postgresql redis-server nginx
system-deps:
	@bash scripts/system-deps.sh $(SYSTEM_PACKAGES)
	@bash scripts/web-test-deps.sh

# Security tools (pip-audit, schemathesis) in their own environment .venv/tools: they need newer
# packaging/jsonschema/pytest than Rasa's pinned set. Dependency audit: see docs/SECURITY.md;
# AUDIT_OFFLINE=fail makes an unreachable vulnerability service an error (default: a warning).
AUDIT_OFFLINE ?= warn
tools: $(VENV)/tools/.installed
$(VENV)/tools/.installed: requirements/tools.txt
	PYTHON=$(PYTHON) bash scripts/audit.sh install

audit: tools
	bash scripts/audit.sh --offline=$(AUDIT_OFFLINE)

test-fast: install
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check bot retrieval voice tests bench

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var .pytest_cache
