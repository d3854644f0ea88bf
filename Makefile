# Todo API: the two commands are `make dev` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
SAM_VENV ?= .venv-sam
CLIENT_VENV ?= .venv-client
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SERVERS := $(PY) scripts/servers.py
# Tools built once with `go install` and cached outside the repository (as FerretDB is).
TOOLS_BIN ?= $(or $(TODO_API_CACHE),$(HOME)/.cache/todo-api)/bin
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS_BIN)/actionlint
OASDIFF_VERSION := v1.37.0
OASDIFF := $(TOOLS_BIN)/oasdiff-$(OASDIFF_VERSION)/oasdiff
export OASDIFF
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR):$(CURDIR)/clients/python
export AWS_DEFAULT_REGION ?= us-east-1


.PHONY: help install docs-assets openapi dev test test-unit lint format sam-validate sam-build \
	lint-infra env-json sam-local-setup test-suite bench lock clean

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

# openapi-python-client pins its own ruff and pydantic: it gets a virtual environment of its own.
$(CLIENT_VENV)/.installed: requirements/client.txt
	$(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/pip install --quiet --upgrade pip
	$(CLIENT_VENV)/bin/pip install --quiet -r requirements/client.txt
	touch $@

.PHONY: client-venv client
client-venv: $(CLIENT_VENV)/.installed  ## the generator's virtual environment (.venv-client)

client: $(VENV)/.installed $(CLIENT_VENV)/.installed  ## regenerate clients/python/ from functions/docs/openapi.json
	CLIENT_VENV=$(CLIENT_VENV) $(PY) -m devtools.client

install: $(VENV)/.installed  ## create the virtual environment from the lock
	$(SERVERS) install

docs-assets: functions/docs/static/.fetched  ## the docs pages' JS/CSS (pinned, from npm)

functions/docs/static/.fetched: functions/docs/assets.py
	$(PYTHON) functions/docs/assets.py functions/docs/static
	touch $@

openapi: $(VENV)/.installed  ## regenerate functions/docs/openapi.json from the functions' code
	APP_DEBUG=true $(PY) -m devtools.openapi

# RUNTIME=lambda: the built artifacts in the Lambda runtime (RIE + awslambdaric), one process
# per function, instead of importing the handlers into the gateway (devtools/rie.py).
RUNTIME ?= python
dev: $(VENV)/.installed docs-assets  ## the whole API on http://127.0.0.1:8000 (RUNTIME=lambda: in the Lambda runtime)
	$(SERVERS) run --profile dev -- $(PY) -m devtools.serve --runtime $(RUNTIME)

test: lint sam-validate lint-infra api-diff test-suite  ## lint, types, template and infra checks, then the whole suite

# The browser test (tests/e2e/test_docs_browser.py) drives Debian's Chromium through its
# ChromeDriver. As root with apt-get, missing packages are installed (without recommends);
# elsewhere the target says what to install. CHROMIUM_PATH and CHROMEDRIVER_PATH, which the test
# reads too, point at another Chromium and its driver (a CI runner's own, say).
.PHONY: browser
browser:  ## Debian's chromium and chromium-driver for the browser test
	@if [ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] && [ -x "$${CHROMEDRIVER_PATH:-/usr/bin/chromedriver}" ]; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser: installing chromium and chromium-driver with apt-get"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; } || exit 1; \
	else \
		echo "browser: $${CHROMIUM_PATH:-/usr/bin/chromium} or $${CHROMEDRIVER_PATH:-/usr/bin/chromedriver} is missing. Install them (Debian/Ubuntu: sudo apt-get install --no-install-recommends chromium chromium-driver), run this as root on Debian to have them installed, or set CHROMIUM_PATH and CHROMEDRIVER_PATH." >&2; \
		exit 1; \
	fi

# `make test` without its checks (CI's test job runs the checks in other jobs).
test-suite: $(VENV)/.installed $(CLIENT_VENV)/.installed $(OASDIFF) docs-assets browser  ## the whole suite alone, with the servers of `make test`
	LOCAL_SCHEDULE_SECONDS=2 $(SERVERS) run --profile test -- $(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed $(CLIENT_VENV)/.installed $(OASDIFF)  ## the unit tests alone (no servers)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.installed  ## ruff and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/common/todo_common functions devtools scripts benchmarks tests clients/python/todo_api_client

format: $(VENV)/.installed  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

sam-validate: $(SAM_VENV)/.installed  ## sam validate --lint and cfn-lint on template.yaml
	$(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml

# The layer's Makefile fails without a CPython 3.13 to compile its bytecode (PYC_PYTHON names
# one); the built layer is then checked for a cpython-313 .pyc beside every module.
sam-build: $(SAM_VENV)/.installed $(VENV)/.installed  ## sam build (layer for python3.13 on arm64, with its bytecode)
	$(SAM) build
	BUILT_LAYER=.aws-sam/build/CommonLayer $(PY) -m pytest -q -p no:cacheprovider tests/build

# Both checks run without Docker or AWS: actionlint is a Go program, and Debian's docker-compose
# (1.29, Python) validates a compose file without an engine. As root on Debian/Ubuntu a missing
# docker-compose is installed with apt-get (without the engine it recommends); elsewhere the
# Compose v2 plugin (`docker compose`) is used when present, or the target says what to install.
lint-infra:  ## actionlint on .github/workflows, docker-compose config on docker-compose.yml
	@if ! "$(ACTIONLINT)" -version 2>/dev/null | grep -qx '$(ACTIONLINT_VERSION)'; then \
		if ! command -v go >/dev/null; then \
			echo "lint-infra: actionlint $(ACTIONLINT_VERSION) is not in $(TOOLS_BIN) and Go is not on PATH; install Go 1.24 or newer" >&2; \
			exit 1; \
		fi; \
		echo "lint-infra: go install actionlint $(ACTIONLINT_VERSION) into $(TOOLS_BIN)"; \
		GOBIN="$(TOOLS_BIN)" go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) || exit 1; \
	fi
	$(ACTIONLINT)
	@if command -v docker-compose >/dev/null; then \
		compose=docker-compose; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "lint-infra: installing Debian's docker-compose with apt-get (no Docker engine)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; } || exit 1; \
		compose=docker-compose; \
	elif docker compose version >/dev/null 2>&1; then \
		compose="docker compose"; \
	else \
		echo "lint-infra: docker-compose is missing. Install it (Debian/Ubuntu: apt-get install --no-install-recommends docker-compose; macOS: brew install docker-compose), or run this as root on Debian to have it installed." >&2; \
		exit 1; \
	fi; \
	echo "$$compose -f docker-compose.yml config -q"; \
	$$compose -f docker-compose.yml config -q

# oasdiff, built with Go like actionlint (its `--version` says `main` when built so: the
# version is in the path).
$(OASDIFF):
	@command -v go >/dev/null || { echo "oasdiff $(OASDIFF_VERSION) needs Go 1.24 or newer to build" >&2; exit 1; }
	GOBIN="$(dir $@)" go install github.com/oasdiff/oasdiff@$(OASDIFF_VERSION)

# API_BASE: a git revision to compare with (CI: the pull request's base); default the last v* tag.
.PHONY: api-diff
api-diff: $(VENV)/.installed $(OASDIFF)  ## fail on a breaking change to openapi.json without a new major version
	$(PY) -m devtools.api_breaking $(if $(API_BASE),--base $(API_BASE))

# env.json holds no secret since issue 19 (they are moto's: sam-local-setup), only where the
# compose services are and the local keys' names. One from before (a SECURITY_SECRET_KEY, no
# moto endpoint) would leave the functions without their keys: it is refused, not kept.
env-json:  ## write env.json for `sam local start-api` (docs/local-sam.md) from env.json.example
	@if [ ! -e env.json ]; then \
		cp env.json.example env.json && echo "wrote env.json from env.json.example (git-ignored)"; \
	elif grep -q SECURITY_SECRET_KEY env.json || ! grep -q AWS_ENDPOINT_URL_KMS env.json; then \
		echo "env.json is from before issue 19 (a SECURITY_SECRET_KEY, no AWS_ENDPOINT_URL_KMS): delete it and run make env-json again" >&2; \
		exit 1; \
	else \
		echo "env.json exists; delete it to write a new one from env.json.example"; \
	fi

# The keys, the digest bucket and the secrets todo/local/* on docker-compose.yml's moto, with
# the values a Lambda container reaches (mongodb://mongo:27017/); kept if they exist.
TODO_MOTO_PORT ?= 5000
sam-local-setup: $(VENV)/.installed env-json  ## provision docker-compose.yml's moto for `sam local`, and env.json
	$(SERVERS) provision --endpoint http://127.0.0.1:$(TODO_MOTO_PORT) --stage local

bench: $(VENV)/.installed  ## benchmarks (figures, not pass/fail) against the local servers
	$(SERVERS) run --profile bench -- $(PY) -m benchmarks.run

lock: $(VENV)/.installed  ## refresh requirements/dev.lock from requirements/dev.in
	$(PY) -m pip install --quiet -r requirements/dev.in
	$(PY) -m pip freeze --exclude-editable | grep -v '^pip==' > requirements/dev.lock

clean:  ## remove build output and local data (not the venvs)
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
