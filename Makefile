# The front door: the targets a person types are the ones CI calls.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
CHAOS_ARGS ?=

.PHONY: help bootstrap postgres run test lint format pytest chaos clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

bootstrap: ## install the virtualenv (.venv) and the locked dependencies
	@scripts/bootstrap.sh

postgres: ## make sure a local PostgreSQL answers (start or install it)
	@scripts/ensure-postgres.sh

run: bootstrap postgres ## a working local instance on http://127.0.0.1:8000
	@$(BIN)/event-data dev

test: bootstrap postgres lint pytest ## every check and every test

pytest: bootstrap postgres ## the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

chaos: bootstrap postgres ## the fault suite: the real service under kill -9, outages, redelivery
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

lint: bootstrap ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: bootstrap ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
