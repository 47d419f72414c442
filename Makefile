# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run serve test install bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(BIN)/daphne -b $(HOST) -p $(PORT) --access-log /dev/null whimsy_project.asgi:application

# Production-style: WORKERS daphne processes on one shared socket (REDIS_URL needed for more than one).
# DEBUG stays as you set it (off by default), so SECRET_KEY and ALLOWED_HOSTS must be set; see README.
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python -m whimsy_project.serve --workers $(WORKERS) --host $(HOST) --port $(PORT)

test: install
	DEBUG=$${DEBUG-1} $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks against PostgreSQL and Redis (see README, Benchmarks); one alone: make bench BENCH_ARGS="relay --pairs 50".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
