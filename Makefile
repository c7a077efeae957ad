# Two commands for a fresh machine: `make run` and `make test`. The rest are shortcuts the README shows.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run`'s settings (DEBUG on, and so its database: DATABASE_URL, else db.sqlite3), for the
# management commands below too.
DEV = DEBUG=$${DEBUG:-1}

.PHONY: install run test migrate demo supportuser safety-report safety-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(DEV) $(BIN)/python manage.py migrate --noinput

## Serve Nora on http://$(HOST):$(PORT) (SQLite, in-memory channel layer, offline providers unless configured).
run: migrate
	$(DEV) $(BIN)/daphne --bind $(HOST) --port $(PORT) nora.asgi:application

## A demo user with a few conversations, in the database `make run` serves (prints the password).
demo: migrate
	$(DEV) $(BIN)/python manage.py seeddemo

## A support-staff account for /admin/: `make supportuser EMAIL=you@example.com` (asks for a password).
supportuser: migrate
	@test -n "$(EMAIL)" || { echo "Say whose account: make supportuser EMAIL=you@example.com"; exit 2; }
	$(DEV) $(BIN)/python manage.py createsupportuser --email "$(EMAIL)"

## The safety classifier's recall and false alarms on its labelled messages.
safety-report: install
	$(DEV) $(BIN)/python manage.py safety_report

## Train the safety triage's statistical layer again, after a labelled set changes (a test says when).
safety-model: install
	$(DEV) $(BIN)/python manage.py safety_model_train

## The whole suite on PostgreSQL and Redis (the local ones unless DATABASE_URL / REDIS_URL say otherwise),
## after installing the system packages the tests drive and starting the services if they are down.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: install
	scripts/test-machine
	NORA_REQUIRE_SERVICES=1 $(BIN)/pytest $(PYTEST_ARGS)
