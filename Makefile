# gemroll — every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
UV := python3 -m uv

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: uv
uv:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock contracts/pyproject.toml services/*/pyproject.toml tools/pyproject.toml
	@$(MAKE) --no-print-directory uv
	$(UV) sync --all-packages --python 3.11
	@touch $@

.PHONY: venv
venv: .venv/.synced ## create/update the development environment in .venv/

.PHONY: up
up: venv ## start the local stack (Kafka, PostgreSQL, S3) and the services; see .run/stack.env
	$(PY) -m gemroll_dev.stack up

.PHONY: down
down: venv ## stop everything `make up` started
	$(PY) -m gemroll_dev.stack down

.PHONY: status
status: venv ## show what is running
	$(PY) -m gemroll_dev.stack status

.PHONY: contracts
contracts: venv ## regenerate JSON Schemas and the AsyncAPI document from the contracts
	$(PY) -m gemroll_dev.contracts_docs write

.PHONY: test
test: venv ## run the whole suite (starts the local stack when needed)
	$(PY) -m pytest

.PHONY: test-unit
test-unit: venv ## only the tests that need no infrastructure
	$(PY) -m pytest tests/unit

.PHONY: demo
demo: venv ## the product's main job, end to end
	$(PY) -m gemroll_dev.demo

.PHONY: lint
lint: venv
	.venv/bin/ruff check contracts services tools tests
