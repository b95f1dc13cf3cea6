# Hubdash: every target builds .venv and installs the project when needed, so `make run` and
# `make test` are the only commands a fresh clone needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Compiled translations (.mo, not committed): rebuilt whenever a .po file changes (see `messages` below).
LOCALE_STAMP := $(VENV)/.locale-stamp
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
PG_URL ?= postgres://postgres@127.0.0.1:5432/hubdash
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1

.PHONY: audit run test test-postgres test-browser test-all lint format bench screenshots worker sandbox clean messages soak

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

# Part of the install: every target that serves pages or runs tests depends on it. msgfmt is GNU gettext.
$(LOCALE_STAMP): $(STAMP) $(PO_FILES)
	@command -v msgfmt >/dev/null || { echo "GNU gettext is missing: apt-get install -y gettext"; exit 1; }
	@$(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=static -v 0
	@touch $(LOCALE_STAMP)

## Extract new or changed messages into locale/pt_BR (then translate them there; `make` compiles them).
messages: $(STAMP)
	$(PY) manage.py makemessages -l pt_BR -d django --no-location --no-obsolete
	$(PY) manage.py makemessages -l pt_BR -d djangojs --no-location --no-obsolete
	@# Sorted, without source lines: work on two branches adds messages that merge without conflicts.
	@# msgmerge's fuzzy guesses ("Activity" → the translation of "Active") come out empty, to translate.
	@for po in $(PO_FILES); do msgattrib --clear-fuzzy --empty --clear-previous --output-file=$$po $$po \
		&& msgcat --sort-output --output-file=$$po $$po && sed -i '/^"POT-Creation-Date:/d' $$po; done

## Serve http://127.0.0.1:8000 with SQLite, the in-memory layer, a worker and the Hub sandbox.
run: $(LOCALE_STAMP)
	$(PY) manage.py run_embedded

## The test suite on SQLite + the in-memory channel layer (no services needed).
test: $(LOCALE_STAMP)
	$(PY) -m pytest -m "not browser" -q -n auto

## The same suite on PostgreSQL + Redis (the services of the production configuration).
test-postgres: $(LOCALE_STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CHANNEL_LAYER_PREFIX=hubdash-test \
		$(PY) -m pytest -m "not browser" -q -n auto

## Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against a live daphne.
test-browser: $(LOCALE_STAMP)
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
	$(PY) -m bench.reports --runs 5

## The soak with faults (docs/benchmarks.md, "Soak with faults"): its own PostgreSQL database and
## redis-server, two daphne processes (DEBUG=false), two workers and the Hub sandbox, all on loopback;
## customers write on every channel kind (20 % of webhooks duplicated, 10 % reordered), agents reply
## at 5/s (10 % of sends fail); Redis, a daphne process, a worker and PostgreSQL's connections are cut
## once each; then every event is reconciled (exit 1 on any mismatch). Short form, run by CI: 90 s at
## 25 messages/s, about 3 minutes. Long form (30 minutes at 50/s, every fault six times):
##   $(PY) -m bench.soak --seconds 1800 --rate 50 --fault-rounds 6
soak: $(STAMP)
	@command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install -y redis-server"; exit 1; }
	$(PY) -m bench.soak --seconds 90 --rate 25

## README screenshots of the inbox and a thread, with the browser-test setup against demo data.
screenshots: $(LOCALE_STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(PY) -m pytest -q -m browser tests/browser/test_screenshots.py --screenshots

## Audit the installed dependencies for known vulnerabilities (pip-audit, in its own venv under var/).
## Needs the advisory databases (OSV, PyPI's JSON API) to be reachable: see docs/security.md.
audit: $(STAMP)
	@test -x var/audit-venv/bin/pip-audit || { $(PYTHON) -m venv var/audit-venv && var/audit-venv/bin/pip install --quiet pip-audit; }
	var/audit-venv/bin/pip-audit --strict --path $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

worker: $(LOCALE_STAMP)
	$(PY) manage.py run_worker

sandbox: $(STAMP)
	$(PY) manage.py hub_sandbox --port 8765 --customers-rate 0.2

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
