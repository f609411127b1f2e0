# Every target creates .venv and installs what it needs, so a fresh clone needs only `make`.
# `make test` and `make run` first install the system packages they need when missing
# (scripts/system-deps: apt-get as root; otherwise it prints the command and stops).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
PORT ?= 8000

.PHONY: bytecode run test lint typecheck bench bench-full bench-store bench-synapse bench-web demo clean system-deps-run system-deps-test

# Prerequisites are made in the order written: the system packages before anything runs.
.NOTPARALLEL:

system-deps-run:
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/system-deps run

system-deps-test:
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/system-deps test

$(STAMP): pyproject.toml integrations/synapse/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e integrations/synapse
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# Byte-compile the sources as a regular (non-editable) install does, so that no command
# compiles them again at start-up when PYTHONDONTWRITEBYTECODE is set (up to 0.3 s a command).
# Cheap when nothing changed: only sources newer than their .pyc are compiled.
bytecode:
	$(BIN)/python -m compileall -q src integrations/synapse/src > /dev/null

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: system-deps-run $(STAMP) bytecode
	$(BIN)/infobarrier --db sqlite:///infobarrier.db serve --demo --host 127.0.0.1 --port $(PORT)

demo: system-deps-run $(STAMP)
	$(BIN)/infobarrier --db sqlite:///infobarrier.db demo

test: system-deps-test $(STAMP) bytecode lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks integrations
	$(BIN)/ruff format --check src tests benchmarks integrations
	$(BIN)/mypy

# USERS:SEGMENTS:MODE configurations (benchmarks/README.md).
BENCH_CONFIGS := 10000:50:single,10000:500:single,10000:500:multi,100000:500:single,100000:500:multi
BENCH_FULL_CONFIGS := $(BENCH_CONFIGS),100000:5000:single,1000000:500:single,1000000:500:multi

bench: $(BENCH_STAMP) bytecode
	$(BIN)/python -m benchmarks.run --configs $(BENCH_CONFIGS)

bench-full: $(BENCH_STAMP) bytecode
	$(BIN)/python -m benchmarks.run --configs $(BENCH_FULL_CONFIGS)

# The store path through the command line, SQLite and PostgreSQL (benchmarks/README.md).
# BENCH_STORE_CONFIGS=10000:500,100000:500,1000000:500 adds the million users.
BENCH_STORE_CONFIGS ?= 10000:500,100000:500
BENCH_STORE_STORES ?= sqlite,postgresql

bench-store: system-deps-test $(STAMP) bytecode
	$(BIN)/python -m benchmarks.store --configs $(BENCH_STORE_CONFIGS) --stores $(BENCH_STORE_STORES)

# The web page in Chromium at 100,000 users x 500 segments: each page's time to interactive
# (benchmarks/README.md). BASELINE=<git revision> measures that revision first, side by side.
bench-web: $(STAMP) bytecode
	$(BIN)/python -m benchmarks.web $(if $(BASELINE),--baseline $(BASELINE)) $(BENCH_WEB_ARGS)

# A homeserver with the Synapse module off and on: message and invite latency (benchmarks/README.md).
bench-synapse: $(STAMP)
	$(BIN)/python -m benchmarks.synapse_bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
