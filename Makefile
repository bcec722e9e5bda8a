# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install demo test lint bench bench-web clean browser messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# A demo clinic with months of history, served on http://localhost:8000/ (data in var/;
# seeded on the first run). Options go in DEMO_ARGS, e.g. make demo DEMO_ARGS="--reset".
demo: install
	$(BIN)/alliance demo $(DEMO_ARGS)

# The client's side in every shipped language (docs/languages.md): new and changed text
# into each catalogue, then each compiled; the compiled .mo files are committed, so a fresh
# machine needs no GNU gettext. Translate the new entries, then run it again.
messages: install
	$(BIN)/python -m alliance.web.catalogues update
	$(BIN)/python -m alliance.web.catalogues compile
	$(BIN)/python -m alliance.web.catalogues check || true

lint: install
	$(BIN)/lint-imports

# The whole suite on SQLite, then every database test again on a throwaway PostgreSQL
# server (installed with apt-get when missing; see scripts/test-postgres.sh).
test: install lint browser
	$(BIN)/pytest -n 2 -q
	scripts/test-postgres.sh $(BIN)/pytest -n 2 -q tests/web tests/e2e

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x /usr/bin/chromium || { \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

bench: install
	$(BIN)/python benchmarks/signals_engine.py

# The production server under load on SQLite and PostgreSQL (docs/benchmarks.md).
bench-web: install
	$(BIN)/python benchmarks/web_load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
