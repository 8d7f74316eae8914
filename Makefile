# Clapstream: `make run` runs the whole system locally, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements/dev.lock | cksum | cut -d' ' -f1)
# The locks pin every transitive dependency with its hashes, from pyproject.toml:
# runtime.lock for the image, dev.lock (the same versions plus the dev tools) here.
LOCK   := uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
          --python-platform x86_64-manylinux_2_28 --no-emit-package clapstream

.PHONY: run test test-postgres lint format broker-start broker-stop clean spike bench soak lock image image-test \
	cluster cluster-down cluster-status e2e spike-cluster

# Locally every client is 127.0.0.1: the per-address limit would only get in the way.
run: $(STAMP)
	DEBUG=$${DEBUG:-true} CLAP_ADDRESS_RATE=$${CLAP_ADDRESS_RATE:-} exec $(PY) -m tools.run

# The spike profile against a fresh local stack with the lag autoscaler; chart in results/.
spike: $(STAMP)
	DEBUG=$${DEBUG:-true} CLAP_SUBMIT_RATE=$${CLAP_SUBMIT_RATE:-100000/min} \
	CLAP_ADDRESS_RATE=$${CLAP_ADDRESS_RATE:-} \
	CLAP_WORK_MS=$${CLAP_WORK_MS:-200} $(PY) -m tools.spike

# 10,000 jobs through a fresh stack under a schedule of faults (docs/reliability.md);
# `make test` runs a short one. SOAK_ARGS=--short, or e.g. SOAK_ARGS="--jobs 2000".
soak: $(STAMP)
	DEBUG=$${DEBUG:-true} $(PY) -m tools.soak $(SOAK_ARGS)

# Clapstream against Celery on Redis and the bare loop: one table (docs/benchmarks.md).
bench: $(STAMP)
	DEBUG=$${DEBUG:-true} $(PY) -m tools.bench compare

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

# The same suite against a throw-away PostgreSQL cluster, the production database.
test-postgres: $(STAMP)
	$(PY) -m tools.postgres_suite

# A Kubernetes control plane with KEDA on loopback (built from source once, cached in
# ~/.cache/clapstream); `make cluster-down` stops it. docs/deploy.md tells more.
# With one node (kubelet on the machine's containerd, as root) that runs the image.
cluster: image $(STAMP)
	$(PY) -m tools.cluster up

# The spike profile against the web pod on that node; KEDA scales the worker pods on
# lag (docs/deploy.md). SPIKE_ARGS="--peak 40" etc.; results in results/<timestamp>/.
spike-cluster: image $(STAMP)
	$(PY) -m tools.cluster.spike $(SPIKE_ARGS)

cluster-down: $(STAMP)
	$(PY) -m tools.cluster down

cluster-status: $(STAMP)
	$(PY) -m tools.cluster status

# Every overlay applied to a real control plane, KEDA scaling on real lag, and the
# image's pods on its node (tests/e2e; the first run builds Kubernetes, etcd and
# KEDA: about half an hour).
e2e: image $(STAMP)
	$(PY) -m tools.cluster build
	$(VENV)/bin/pytest tests/e2e -m e2e --timeout=900

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

broker-start: $(STAMP)
	$(PY) -m tools.broker start

broker-stop: $(STAMP)
	$(PY) -m tools.broker stop

# The image: podman builds the Dockerfile (on a local Debian base where no registry
# answers; see tools/image/build.sh). IMAGE=name:tag to build another tag.
image:
	./tools/image/build.sh

# Runs the built image: web, worker and recorder containers against a private broker.
image-test: image $(STAMP)
	CLAPSTREAM_IMAGE_TESTS=1 $(VENV)/bin/pytest tests/image -p no:cacheprovider

# After a change of pyproject.toml: regenerate both locks (`make` installs dev.lock).
lock: $(STAMP)
	$(VENV)/bin/$(LOCK) --extra postgres -o requirements/runtime.lock
	$(VENV)/bin/$(LOCK) --extra postgres --extra dev -c requirements/runtime.lock \
	  -o requirements/dev.lock

$(STAMP): pyproject.toml requirements/dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache
