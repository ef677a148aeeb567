# Two commands on a fresh machine (see README.md):
#   make run    set up, then run the product on embedded defaults
#   make test   set up, then run every test
# Set-up is incremental: the virtualenv and node_modules are rebuilt only when
# pyproject.toml or package-lock.json change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 4

.PHONY: run test setup lint clean

run: setup
	$(BIN)/cti serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
