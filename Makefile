# appcluster: `make up` deploys the local stack, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= local

.PHONY: up test test-unit test-integration engine venv plan render check bench clean

up: venv ## deploy the local stack with the real engine (builds it from Go modules the first time)
	scripts/up.sh

test: venv engine ## unit tests (mocks) and integration tests (the real engine)
	$(PY) -m pytest

test-unit: venv ## the fast tier: Pulumi mocks only
	$(PY) -m pytest tests --ignore=tests/integration

test-integration: venv engine
	$(PY) -m pytest tests/integration

engine: ## build the Pulumi CLI, Python language host and Kubernetes provider (cached)
	scripts/build-engine.sh >/dev/null

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

plan render check: venv ## the offline toolbox on STACK (default local)
	$(PY) -m tools.offline $@ --stack $(STACK)

bench: venv ## time plan and check on the prod-sized stack
	$(PY) scripts/bench.py

clean:
	rm -rf rendered .state .pytest_cache
