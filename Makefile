# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(BIN)/daphne -b $(HOST) -p $(PORT) whimsy_project.asgi:application

test: install
	DEBUG=$${DEBUG-1} $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks against PostgreSQL and Redis (see README, Benchmarks); one alone: make bench BENCH_ARGS="relay --pairs 50".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
