# Two commands on a fresh clone: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-sqlite lint migrate demo demo-data clean help

help:
	@echo "make run    - install, migrate, load demo data, serve admin + API with a Celery worker and beat"
	@echo "make test   - the whole suite on SQLite, then PostgreSQL + Redis, then import-linter and ruff"
	@echo "make demo   - run a whole demo campaign on simulated days and print its report and audit timeline"
	@echo "make lint   - import-linter and ruff only"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo-data: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo --if-missing --quiet

demo: migrate
	$(BIN)/python manage.py demo

run: demo-data
	@$(BIN)/python manage.py demo_access && echo "  Bound to $${AICMO_BIND:-127.0.0.1}:$${AICMO_PORT:-8000} (AICMO_BIND=0.0.0.0 for every interface, AICMO_PORT for another port; Ctrl-C stops web, worker and beat)"
	$(BIN)/honcho start -f Procfile

test: install
	scripts/run-tests.sh

test-sqlite: install
	$(BIN)/pytest

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .

clean:
	rm -rf var/celery-broker var/sent-mail var/screenshots
