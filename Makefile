# Todo API: the two commands are `make dev` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
SAM_VENV ?= .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SERVERS := $(PY) scripts/servers.py
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)
export AWS_DEFAULT_REGION ?= us-east-1


.PHONY: help install docs-assets openapi dev test test-unit lint typecheck format sam-validate sam-build bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.lock
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements/sam.txt
	touch $@

install: $(VENV)/.installed  ## create the virtual environment from the lock
	$(SERVERS) install

docs-assets: functions/docs/static/.fetched  ## the docs pages' JS/CSS (pinned, from npm)

functions/docs/static/.fetched: functions/docs/assets.py
	$(PYTHON) functions/docs/assets.py functions/docs/static
	touch $@

openapi: $(VENV)/.installed  ## regenerate functions/docs/openapi.json from the functions' code
	APP_DEBUG=true $(PY) -m devtools.openapi

dev: $(VENV)/.installed docs-assets  ## the whole API on http://127.0.0.1:8000 with local MongoDB, Redis, SQS
	$(SERVERS) run --profile dev -- $(PY) -m devtools.serve

test: $(VENV)/.installed docs-assets lint sam-validate  ## lint, types, template checks, then the whole suite
	LOCAL_SCHEDULE_SECONDS=2 $(SERVERS) run --profile test -- $(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed  ## the unit tests alone (no servers)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.installed  ## ruff and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/common/todo_common functions devtools scripts benchmarks tests

format: $(VENV)/.installed  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

sam-validate: $(SAM_VENV)/.installed  ## sam validate --lint and cfn-lint on template.yaml
	$(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml

sam-build: $(SAM_VENV)/.installed  ## sam build (layer built for python3.13 on arm64)
	$(SAM) build

bench: $(VENV)/.installed  ## benchmarks (figures, not pass/fail) against the local servers
	$(SERVERS) run --profile bench -- $(PY) -m benchmarks.run

lock: $(VENV)/.installed  ## refresh requirements/dev.lock from requirements/dev.in
	$(PY) -m pip install --quiet -r requirements/dev.in
	$(PY) -m pip freeze --exclude-editable | grep -v '^pip==' > requirements/dev.lock

clean:  ## remove build output and local data (not the venvs)
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
