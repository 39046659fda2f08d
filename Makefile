# wechathhu — the two commands a new user needs:
#   make run    install, migrate, load demo data and serve on http://127.0.0.1:8000/
#   make test   install, lint, check, and run the whole test suite on SQLite and on MariaDB + Redis
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# The MariaDB/MySQL server the second test pass runs against (a test_ database is created there).
TEST_MYSQL_URL ?= mysql://root@127.0.0.1:3306/wechathhu
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# Both passes run in parallel, one pytest-xdist worker per core; tests that share something costly
# (the browser suite, the deployment smoke test, the bench's data set) stay together on one worker
# (xdist_group, root conftest). Each worker has its own test database (pytest-django suffixes its
# name) and its own cache keys. PYTEST_XDIST="-n 0" runs everything in one process.
PYTEST_XDIST ?= -n auto --dist loadgroup
# Settings for the checks and the tests: the embedded defaults, whatever a local .env says.
CLEAN_ENV := env -u DATABASE_URL -u REDIS_URL -u EMAIL_URL -u WECHAT_APP_ID -u WECHAT_APP_SECRET \
	ENV_FILE=/dev/null DEBUG=true CELERY_TASK_ALWAYS_EAGER=true

.PHONY: help run test install install-dev sysdeps services browserdeps lint format schema checks \
	test-sqlite test-mariadb deploy stop status backup restore bench clean

help:
	@echo "make run   - install and start the portal with demo data (SQLite, in-process tasks)"
	@echo "make test  - install and run lint, checks and the full test suite (SQLite + MariaDB/Redis)"
	@echo "make deploy - full deployment on this machine: migrate, then gunicorn + celery worker + celery beat"
	@echo "              under supervisord (needs DATABASE_URL and REDIS_URL in .env; README, Full deployment)"
	@echo "make stop   - stop it (every process stops gracefully; exit 0); make status - its processes"
	@echo "make backup - back up the database and the uploaded files into one archive (var/backups/)"
	@echo "make restore BACKUP=file - restore such an archive into an empty deployment"
	@echo "make schema - regenerate the committed OpenAPI schema (schema/openapi.yaml)"
	@echo "make bench  - run the benchmark suite (see bench/README.md)"

$(BIN)/python:
	@scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	@scripts/system-deps.sh
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	@scripts/system-deps.sh
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo ""
	@echo "  wechathhu is starting on http://$(HOST):$(PORT)/"
	@echo "    admin:    http://$(HOST):$(PORT)/admin/"
	@echo "    API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "  (the demo logins are listed above; stop with Ctrl+C)"
	@echo ""
	@# Celery beat runs the periodic jobs (scheduled messages, reminders, mail re-sends); without a
	@# broker it runs each job in its own process, as the web process runs the other tasks.
	@LOG_LEVEL=WARNING $(BIN)/celery -A wechathhu beat & beat=$$!; \
		trap 'kill $$beat 2>/dev/null; wait $$beat 2>/dev/null' EXIT; \
		$(MANAGE) runserver $(HOST):$(PORT)

services:
	@scripts/services.sh

# Debian's Chromium (and a Chinese font) for the browser tests; a no-op once installed.
browserdeps:
	@scripts/browser-deps.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

checks: install-dev
	$(CLEAN_ENV) $(MANAGE) check
	$(CLEAN_ENV) DEBUG=false SECRET_KEY=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))") ALLOWED_HOSTS=portal.example.edu.cn \
		SITE_URL=https://portal.example.edu.cn $(MANAGE) check --deploy --fail-level WARNING
	$(CLEAN_ENV) $(MANAGE) makemigrations --check --dry-run
	@tmp=$$(mktemp); $(CLEAN_ENV) $(MANAGE) spectacular --validate --fail-on-warn --file $$tmp \
		&& diff -u schema/openapi.yaml $$tmp \
		|| { echo "schema/openapi.yaml is out of date: run 'make schema' and commit it"; rm -f $$tmp; exit 1; }; \
		rm -f $$tmp

schema: install-dev
	$(CLEAN_ENV) $(MANAGE) spectacular --validate --fail-on-warn --file schema/openapi.yaml

test-sqlite: install-dev browserdeps
	$(CLEAN_ENV) $(BIN)/pytest $(PYTEST_XDIST) -m "not mariadb and not redis" $(PYTEST_ARGS)

test-mariadb: install-dev services browserdeps
	@if scripts/services.sh --check || [[ "$${CI:-}" == "true" ]]; then \
		$(CLEAN_ENV) DATABASE_URL=$(TEST_MYSQL_URL) REDIS_URL=$(TEST_REDIS_URL) CACHE_KEY_PREFIX=wechathhu-test \
			$(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS); \
	else \
		echo "MariaDB or Redis is not installed here: the MariaDB + Redis pass is skipped (CI runs it)."; \
	fi

test: lint checks test-sqlite test-mariadb

# The full deployment on one machine (README, "Full deployment"). Settings come from .env and the
# environment, read by the portal itself. `stack start` checks them (check --deploy), migrates, collects
# the static files and replaces itself with supervisord, which runs gunicorn, the worker and beat,
# restarts whichever exits, and exits 0 on make stop / Ctrl+C / SIGTERM.
deploy: install
	$(MANAGE) stack start

stop:
	@$(MANAGE) stack stop

status:
	@$(MANAGE) stack status

# One archive with the database and the uploaded files, consistent with each other (README, "Backups").
backup:
	$(MANAGE) backup

restore:
	@test -n "$(BACKUP)" || { echo "Usage: make restore BACKUP=var/backups/wechathhu-….tar.gz"; exit 1; }
	$(MANAGE) restore "$(BACKUP)"

bench: install-dev services
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
