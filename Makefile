# Clapstream: `make run` runs the whole system locally, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint format broker-start broker-stop clean spike bench soak

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

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres]'
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache
