# kron: the verbs everyone uses. Every target works from a fresh clone: the first one
# that needs Python creates .venv and installs kron with its dev/test extras.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCAL := .local-cluster
KUBECONFIG_LOCAL := $(CURDIR)/$(LOCAL)/kubeconfig
CRD := crds/kron.dev_scheduledtasks.yaml
export PYTHONPATH := $(CURDIR)/hack

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kron needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

.PHONY: install
install: $(STAMP) ## create .venv and install kron with dev and test extras

.PHONY: binaries
binaries: ## build (or reuse) the pinned Kubernetes, etcd, kwok and helm binaries
	@bash hack/build-binaries.sh >/dev/null

.PHONY: cluster-up
cluster-up: $(STAMP) ## start the local control plane (idempotent); kubeconfig in .local-cluster/kubeconfig
	$(PY) -m localcluster up

.PHONY: cluster-down
cluster-down: $(STAMP) ## stop the local control plane and remove its state
	$(PY) -m localcluster down

.PHONY: cluster-status
cluster-status: $(STAMP) ## say which local control-plane components run
	$(PY) -m localcluster status

.PHONY: run
run: $(STAMP) ## local cluster + CRD + an example task + the operator in the foreground
	bash hack/run.sh

.PHONY: manifests
manifests: $(STAMP) ## regenerate the CRDs (and the chart's copy), the API and the CLI reference pages
	$(PY) -m kron.api.crd --write
	$(PY) -m kron.cli.reference --write

.PHONY: verify
verify: $(STAMP) ## lint, types, layering contracts, generated files (CRDs, reference pages, bench tables) and locks fresh
	$(VENV)/bin/ruff check operator tests hack
	$(VENV)/bin/ruff format --check operator tests hack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m kron.api.crd --check
	$(PY) -m kron.cli.reference --check
	$(PY) -m bench.report --check
	$(PY) hack/lock.py --check

.PHONY: lock
lock: $(STAMP) ## re-resolve the image's locked dependencies (operator/*.lock, with hashes; needs PyPI)
	$(PY) hack/lock.py

.PHONY: image
image: ## build the operator image with buildah on a base made from Debian packages -> localhost/kron:<version>
	bash hack/image.sh

.PHONY: test-unit
test-unit: $(STAMP) ## pure tests only (no cluster)
	$(PY) -m pytest tests/unit tests/contract -m 'not cluster'

.PHONY: test
test: $(STAMP) ## everything: unit, contract, integration on the local control plane (or KRON_TEST_KUBECONFIG)
	$(PY) -m pytest

.PHONY: bench-core
bench-core: $(STAMP) ## benchmark the pure scheduling core (next-fire computation) -> .bench/core.json
	$(PY) hack/bench_core.py --update-docs

.PHONY: bench-memory
bench-memory: $(STAMP) ## bytes kron and kopf hold per task and per run (tracemalloc) -> .bench/memory.json
	$(PY) hack/bench_memory.py --update-docs

.PHONY: bench-pool
bench-pool: $(STAMP) ## benchmark the work pool alone (queueing cost per API job, fair order)
	$(PY) hack/bench_pool.py

.PHONY: bench-http
bench-http: $(STAMP) ## the event loop's lateness while the metrics/probe port is attacked -> .bench/http.json
	$(PY) hack/bench_http.py

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $@

.PHONY: bench
bench: $(BENCH_STAMP) ## kron vs CronJob on a dedicated local cluster (BENCH_PROFILE=quick|full) -> .bench/latest.json
	BENCH_COMMAND="make bench$(if $(BENCH_PROFILE), BENCH_PROFILE=$(BENCH_PROFILE))$(if $(BENCH_PHASES), BENCH_PHASES=$(BENCH_PHASES))$(if $(BENCH_KRON_FLAGS), BENCH_KRON_FLAGS='$(BENCH_KRON_FLAGS)')" $(PY) -m bench

DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,docs]'
	@touch $@

.PHONY: docs
docs: $(DOCS_STAMP) ## the documentation site from docs/ -> build/docs/index.html (warnings are errors; no network)
	$(PY) hack/docs.py

.PHONY: screenshots
screenshots: $(STAMP) ## regenerate the kron ui screenshots in docs/img (local cluster, headless Chromium)
	$(PY) hack/ui_screenshots.py

.PHONY: fuzz
fuzz: $(STAMP) ## hostile tasks and runs through the engine (FUZZ_EXAMPLES, default 10000) -> .bench/fuzz.json
	$(PY) -m hostile

.PHONY: fmt
fmt: $(STAMP) ## format and autofix
	$(VENV)/bin/ruff format operator tests hack
	$(VENV)/bin/ruff check --fix operator tests hack

.PHONY: clean
clean: ## remove build and test leftovers (not the binary cache)
	rm -rf build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
