# The two commands a user needs: `make serve` and `make test`. Everything else is what they are made of.

SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
PORT ?= 3000
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: serve test lint format template build pytest node openapi bench clean

serve: $(BIN)/.installed ## the API at http://127.0.0.1:$(PORT)/v1 on an embedded DynamoDB
	PORT=$(PORT) $(BIN)/python -m local.serve

test: lint template build pytest ## everything CI runs: lint, template lint, SAM build, tests

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11+ found (3.13 preferred)"; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(TOOLS)/bin/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r tools/requirements.txt
	@touch $@

venv: $(BIN)/.installed

lint: $(BIN)/.installed ## ruff (lint and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/threadkit/threadkit functions local tests bench scripts/check_build.py
	$(BIN)/python -m local.openapi --check

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

template: $(TOOLS)/bin/.installed ## cfn-lint and sam validate --lint on template.yaml
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --template template.yaml

build: $(TOOLS)/bin/.installed $(BIN)/.installed ## sam build for arm64 / python3.13, then check what it built
	@py313=$$(command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys' 2>/dev/null && command -v python3.13); \
	case "$(PYTHON)" in *3.13*) py313="$(PYTHON)";; esac; \
	if [ -z "$$py313" ]; then echo "build: skipped, sam build needs Python 3.13 on PATH"; exit 0; fi; \
	PATH="$$(dirname "$$py313"):$$PATH" $(TOOLS)/bin/sam build --template template.yaml && \
	$(BIN)/python scripts/check_build.py .aws-sam/build

# Deploying: `sam build` as `make build` runs it, then `sam deploy` with samconfig.toml's CONFIG_ENV (default
# or prod), which asks nothing. The region and credentials are the user's AWS configuration: the us-east-1
# set above for the offline checks is dropped unless AWS_DEFAULT_REGION came from the environment.
.PHONY: deploy delete
CONFIG_ENV ?= default
USER_REGION := $(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION)

deploy: ## sam build, then sam deploy of CONFIG_ENV's stack (samconfig.toml), with no prompt
	rm -f .aws-sam/build/template.yaml
	$(MAKE) build
	@test -f .aws-sam/build/template.yaml || { echo "deploy: nothing was built (sam build needs Python 3.13)"; exit 1; }
	$(USER_REGION) $(TOOLS)/bin/sam deploy --config-env $(CONFIG_ENV)

delete: $(TOOLS)/bin/.installed ## sam delete of CONFIG_ENV's stack, after a confirmation; the table stays
	$(USER_REGION) $(TOOLS)/bin/sam delete --config-env $(CONFIG_ENV)

# On as many workers as the machine has cores (pytest-xdist), with bytecode written even where the shell asks
# for none (PYTHONDONTWRITEBYTECODE): compiling every module again in every worker costs more than the tests.
# The Node packages the tests drive (the openai Node SDK; Portkey's gateway), pinned by their lock files and
# installed before the tests run: the tests themselves reach no network.
NODE_TESTS := tests/support/node_client tests/support/portkey_gateway
node: $(addsuffix /node_modules/.installed,$(NODE_TESTS))

%/node_modules/.installed: %/package-lock.json %/package.json
	@command -v npm >/dev/null || { echo "npm not found: the tests need Node.js 20+ with npm"; exit 1; }
	npm ci --prefix $* --no-audit --no-fund --loglevel=error
	@touch $@

pytest: $(BIN)/.installed node ## the test suite, with coverage
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist worksteal --cov --cov-report=term --cov-fail-under=90

bench: build ## cold start as deployed, warm time per call, DynamoDB work and package size, against baselines
	$(BIN)/python -m bench

openapi: $(BIN)/.installed ## regenerate openapi.json from the functions' routes
	$(BIN)/python -m local.openapi

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis \
		$(addsuffix /node_modules,$(NODE_TESTS))
