# tiplab — the two commands: `make run` and `make test`. Both bootstrap from scratch
# (virtualenv, locked dependencies, migrations, demo data) on a machine with Python 3.11+.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
export TIPLAB_DATA_DIR ?= $(CURDIR)/tiplab-data
# Installed-dependencies stamp: changes when the lock file or pyproject changes.
STAMP := $(VENV)/.stamp-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run serve demo test test-fast lint typecheck lock bench clean help

help:
	@echo "make run   - set up and start tiplab at http://127.0.0.1:8000 with demo data"
	@echo "make test  - set up and run the whole test suite (lint, types, contracts, tests)"
	@echo "make serve - production: gunicorn + job workers with settings.production (docs/deploy.md)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.stamp-*
	@touch $@

install: $(STAMP)

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock:
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --extra spark --extra ai --python-version 3.11 \
		-o requirements.lock

demo: install
	$(BIN)/python -m tiplab_web.manage setup_demo

# The web server (gunicorn) and two job workers, supervised; Ctrl-C stops them all.
run: demo
	$(BIN)/tiplab-web serve --settings tiplab_web.settings.dev --bind 127.0.0.1:8000 \
		--web-workers 2 --workers 2

# Production: needs TIPLAB_SECRET_KEY(_FILE), TIPLAB_ALLOWED_HOSTS, TIPLAB_DATABASE_URL
# (docs/deploy.md); migrates, collects static files, checks, then serves.
serve: install
	$(BIN)/tiplab-web prepare --settings tiplab_web.settings.production
	$(BIN)/tiplab-web serve --settings tiplab_web.settings.production

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The whole suite: lint, the import contract, mypy, then every test (browser tests need
# /usr/bin/chromium and PostgreSQL tests a server; .ci/run provides both).
test: lint typecheck
	TIPLAB_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -n 2 --dist loadgroup -q -p no:cacheprovider

test-fast: install
	TIPLAB_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -n 2 -q -p no:cacheprovider -m "not slow and not e2e and not spark"

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) tiplab-data .pytest_cache .mypy_cache .ruff_cache
