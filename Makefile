# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/lint-imports

test: install lint
	$(BIN)/pytest -n 2 -q

bench: install
	$(BIN)/python benchmarks/signals_engine.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
