# ParkHub: `make run` serves the whole platform at http://127.0.0.1:8080; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint bench chaos clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# A venv made before the docs page moved to Swagger UI 5 holds swagger-ui-bundle 1.x, which
# ships the same module as swagger-ui-bundle-v2: remove it and lay the v2 files down again.
DROP_OLD_SWAGGER = $(BIN)/pip show -q swagger-ui-bundle >/dev/null 2>&1 && \
	$(BIN)/pip uninstall -y -q swagger-ui-bundle && \
	$(BIN)/pip install -q --force-reinstall --no-deps 'swagger-ui-bundle-v2>=5.31,<6' || true

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(DROP_OLD_SWAGGER)
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(DROP_OLD_SWAGGER)
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/parkhub migrate
	$(BIN)/parkhub seed
	$(BIN)/parkhub serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy shared gateway services embedded parkhub_cli.py
	$(BIN)/pytest -m "not chaos" $(IN_PARALLEL)
	$(CHAOS_TESTS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared gateway services embedded parkhub_cli.py

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { echo "bench: installing wrk (Debian's HTTP load generator)"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; }
	$(BIN)/python -m bench.bus --write docs/PERFORMANCE.md
	$(BIN)/python -m bench.booking_availability --write docs/PERFORMANCE.md
	$(BIN)/python -m bench.idle --write docs/PERFORMANCE.md
	$(BIN)/python -m bench.contention --write docs/PERFORMANCE.md
	$(BIN)/python -m bench.lag --write docs/PERFORMANCE.md
	$(BIN)/python -m bench.http --spread 5 --write docs/PERFORMANCE.md

# Three tests at a time, each worker handed its next test when it finishes one; every test owns its
# ports, databases, bus namespace and var/ directory, and the longest start first (tests/conftest.py).
IN_PARALLEL = -n 3 --maxschedchunk 1
# The fault-injection tests (kill -9 of workers, APIs, the broker, PostgreSQL stopped, a poison
# event; docs/RELIABILITY.md), three at a time: each owns its ports, databases, broker node or
# cluster. About 7½ minutes: the broker kept down 330 s (PARKHUB_CHAOS_BROKER_DOWN_SECONDS) starts
# first on a worker of its own and the others share the other two (tests/conftest.py orders them).
# `make test` runs them too, after the rest; `make chaos` also writes their counts into the page.
CHAOS_TESTS = $(BIN)/pytest -p no:cacheprovider -m chaos $(IN_PARALLEL) tests

chaos: $(VENV)/.installed-test
	$(CHAOS_TESTS)
	$(BIN)/python -m tests.chaos.report --write docs/RELIABILITY.md

clean:
	rm -rf $(VENV) var .pytest_cache
