# Crucible: the two README commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# The test suite runs against PostgreSQL and a real Redis (bin/ensure-services brings them up).
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/crucible
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: demo test lint serve worker clean

$(VENV)/.runtime-installed: requirements.txt bin/bootstrap-venv
	VENV=$(VENV) bin/bootstrap-venv requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.runtime-installed requirements-test.txt
	VENV=$(VENV) bin/bootstrap-venv requirements-test.txt
	touch $@

## demo: install (Python packages, Graphviz), migrate the embedded database, run the main job
demo: $(VENV)/.runtime-installed
	bin/ensure-tools
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo $(DEMO_ARGS)

## test: install, bring up PostgreSQL + Redis, lint, import contracts, the whole suite on PostgreSQL
test: $(VENV)/.test-installed
	bin/ensure-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## serve: development server AND a Celery worker (both queues + beat; without CELERY_BROKER_URL on the
## folder queue var/broker/, CRUCIBLE_TASKS=local), on the embedded database with the demo's data; Ctrl-C stops both
serve: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	VENV=$(VENV) bin/serve

## serve-prod: gunicorn, 4 workers on 127.0.0.1:8000, on the configured database (DATABASE_URL; else embedded)
serve-prod: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	WEB_CONCURRENCY=4 $(VENV)/bin/gunicorn config.wsgi:application --config docker/gunicorn.conf.py \
		--bind 127.0.0.1:8000

## worker: a Celery worker for both queues (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)
worker: $(VENV)/.runtime-installed
	@test -n "$$CELERY_BROKER_URL" || { echo "set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(VENV)/bin/celery -A config worker -Q gpu,cpu --loglevel=INFO

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
