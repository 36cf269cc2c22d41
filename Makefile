# The front door: the targets a person types are the ones CI calls.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
NODE_CLIENT := tests/clients/node
# SparkPost's Node client, for the test that runs it; without npm that test is skipped.
NODE_DEPS := $(if $(shell command -v npm 2>/dev/null),$(NODE_CLIENT)/node_modules)

.PHONY: help bootstrap postgres run test lint format pytest clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

bootstrap: ## install the virtualenv (.venv) and the locked dependencies
	@scripts/bootstrap.sh

postgres: ## make sure a local PostgreSQL answers (start or install it)
	@scripts/ensure-postgres.sh

run: bootstrap postgres ## a working local instance on http://127.0.0.1:8000
	@$(BIN)/event-data dev

test: bootstrap postgres lint pytest ## every check and every test

pytest: bootstrap postgres $(NODE_DEPS) ## the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

$(NODE_CLIENT)/node_modules: $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund
	@touch $@

lint: bootstrap ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: bootstrap ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(NODE_CLIENT)/node_modules
