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

.venv/.synced: pyproject.toml uv.lock contracts/pyproject.toml services/*/pyproject.toml tools/pyproject.toml clients/cli/pyproject.toml tests/kit/pyproject.toml
	@$(MAKE) --no-print-directory uv
	$(UV) sync --all-packages --python 3.11
	@touch $@

.PHONY: venv
venv: .venv/.synced ## create/update the development environment in .venv/

.PHONY: setup
setup: .cache/.setup-done ## everything a fresh machine needs besides the venv: tools, packages, model weights

.cache/.setup-done: venv
	$(PY) -m gemroll_classifier.weights seed
	$(PY) -m gemroll_dev.samples deps
	$(PY) -m gemroll_dev.ops_tools ensure
	@mkdir -p .cache && touch $@

.PHONY: up
up: venv setup ## start the local stack (Kafka, PostgreSQL, S3) and the services; see .run/stack.env
	$(PY) -m gemroll_dev.stack up

.PHONY: down
down: venv ## stop everything `make up` started
	$(PY) -m gemroll_dev.stack down

.PHONY: status
status: venv ## show what is running
	$(PY) -m gemroll_dev.stack status

.PHONY: prune-topics
prune-topics: venv ## delete the test topics (<topic>.t<unique>) killed test runs left on the stack
	$(PY) -m gemroll_dev.stack prune-topics

.PHONY: contracts
contracts: venv ## regenerate JSON Schemas and the AsyncAPI document from the contracts
	$(PY) -m gemroll_dev.contracts_docs write

.PHONY: test
MAKE_STARTED := $(shell date +%s)

test: venv setup ## run the whole suite (starts the local stack when needed); prints the wall time
	@status=0; $(PY) -m gemroll_dev.contracts_docs check && $(PY) -m pytest || status=$$?; \
	s=$$(( $$(date +%s) - $(MAKE_STARTED) )); \
	echo "make test: $$(( s / 60 )) min $$(( s % 60 )) s wall time, setup included (exit $$status)"; \
	exit $$status

.PHONY: bench-ingest
bench-ingest: venv setup ## ingest throughput vs raw S3, and peak RSS with 50 MB files
	$(PY) -m gemroll_dev.bench.ingest

.PHONY: bench-classifier
bench-classifier: venv setup ## 12 MP JPEGs to MediaClassified: images/s and RSS vs a naive baseline
	$(PY) -m gemroll_dev.bench.classifier

.PHONY: bench-video
bench-video: venv setup ## videos: classifier's key-frame path vs decoding every frame, clips/s and RSS
	$(PY) -m gemroll_dev.bench.video

.PHONY: bench-suggester
bench-suggester: venv setup ## suggester events/s and classification-to-suggestion latency vs raw consume
	$(PY) -m gemroll_dev.bench.suggester

.PHONY: bench-policy
bench-policy: venv setup ## policy decisions/s vs raw transactional consume-produce
	$(PY) -m gemroll_dev.bench.policy

.PHONY: bench-growth
bench-growth: venv setup ## per-photo costs as one user's roll grows to 1k, 10k and 100k media
	$(PY) -m gemroll_dev.bench.growth

.PHONY: bench
bench: bench-ingest bench-classifier bench-video bench-suggester bench-policy bench-growth ## every benchmark

.PHONY: eval-classifier
eval-classifier: venv setup ## per-class and per-slice precision/recall on the holdout roll (sources training never saw)
	$(PY) -m gemroll_dev.eval_classifier

.PHONY: train-classifier
train-classifier: venv setup ## fit the learned head on the training roll; writes gemroll_classifier/data/head-2.json
	$(PY) -m gemroll_dev.train_classifier

.PHONY: soak
soak: venv setup ## 5-minute sustained load, then three 2,000-photo fault rounds; reports/soak/index.html
	$(PY) -m gemroll_dev.soak --minutes 5 --rate 4 --fault-photos 2000 --fault-rounds 3

.PHONY: soak-faults
soak-faults: venv setup ## only the three 2,000-photo fault rounds, every upload accounted for
	$(PY) -m gemroll_dev.soak --minutes 0 --fault-photos 2000 --fault-rounds 3

.PHONY: test-unit
test-unit: venv ## only the tests that need no infrastructure
	$(PY) -m pytest tests/unit

.PHONY: demo
demo: venv setup ## the product's main job, end to end
	$(PY) -m gemroll_dev.demo

.PHONY: lint
lint: venv
	.venv/bin/ruff check contracts services tools tests
