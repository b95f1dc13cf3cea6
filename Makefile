# Hubdash: every target builds .venv and installs the project when needed, so `make run` and
# `make test` are the only commands a fresh clone needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/hubdash
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1

.PHONY: audit run test test-postgres test-browser test-all lint format bench screenshots worker sandbox clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

## Serve http://127.0.0.1:8000 with SQLite, the in-memory layer, a worker and the Hub sandbox.
run: $(STAMP)
	$(PY) manage.py run_embedded

## The test suite on SQLite + the in-memory channel layer (no services needed).
test: $(STAMP)
	$(PY) -m pytest -m "not browser" -q -n auto

## The same suite on PostgreSQL + Redis (the services of the production configuration).
test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CHANNEL_LAYER_PREFIX=hubdash-test \
		$(PY) -m pytest -m "not browser" -q -n auto

## Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against a live daphne.
test-browser: $(STAMP)
	@test -x /usr/bin/chromium || { echo "Chromium is missing: apt-get install -y chromium"; exit 1; }
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CHANNEL_LAYER_PREFIX=hubdash-browser \
		$(PY) -m pytest -m browser -q tests/browser

test-all: test test-postgres test-browser

## Ruff, then mypy with django-stubs (strict on the Hub adapter, the actions and the selectors).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Benchmarks, each against its anchor in the same run (results and commands: docs/benchmarks.md).
## PostgreSQL and Redis on 127.0.0.1, loopback only; every bench stops what it started. About 18 min
## (docs/benchmarks.md gives each one's longer form, used for the figures there).
bench: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
	$(PY) -m bench --events 3000 --runs 3
	$(PY) -m bench.live --sockets 50 --rate 20 --seconds 10 --runs 3
	$(PY) -m bench.live --sockets 200 --rate 5 --seconds 10 --runs 3
	$(PY) -m bench.pages --seconds 5 --runs 3
	$(PY) -m bench.sending --replies 400 --runs 3
	$(PY) -m bench.search

## README screenshots of the inbox and a thread, with the browser-test setup against demo data.
screenshots: $(STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest -q -m browser tests/browser/test_screenshots.py --screenshots

## Audit the installed dependencies for known vulnerabilities (pip-audit, in its own venv under var/).
## Needs the advisory databases (OSV, PyPI's JSON API) to be reachable: see docs/security.md.
audit: $(STAMP)
	@test -x var/audit-venv/bin/pip-audit || { $(PYTHON) -m venv var/audit-venv && var/audit-venv/bin/pip install --quiet pip-audit; }
	var/audit-venv/bin/pip-audit --strict --path $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

worker: $(STAMP)
	$(PY) manage.py run_worker

sandbox: $(STAMP)
	$(PY) manage.py hub_sandbox --port 8765 --customers-rate 0.2

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
