# Two commands on a fresh machine (see README.md):
#   make run    set up, then run the product on embedded defaults (HOST=… PORT=… to move it)
#   make test   set up, then run every test
# Set-up installs exactly the versions in requirements/*.lock (hashes checked) and is
# incremental: the virtualenv is rebuilt only when a lock, pyproject.toml or setup.py changes,
# node_modules only when package.json or package-lock.json change.
#
# For maintainers (CONTRIBUTING.md, "Dependencies"):
#   make lock          re-resolve the locks after editing dependencies, keeping other pins
#   make lock-upgrade  move every pin to the newest release the ranges allow
#   make test-latest   the suite against the newest release of every dependency, bounds ignored
#   make wheel         dist/*.whl, the installable package (README.md, "Production deployment")

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 4
HOST ?=
PORT ?=
LATEST_VENV ?= .venv-latest
LATEST_BIN  := $(LATEST_VENV)/bin

# Universal locks: one file for every platform and Python >= 3.11, not just this machine.
LOCK_ARGS ?=
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
             --custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: run test setup lint clean lock lock-upgrade test-latest wheel

run: setup
	$(BIN)/cti serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed

# The build tools first (pip, setuptools, uv, from their own lock), so that everything after
# them, including any sdist pip must build, uses locked tools only (--no-build-isolation).
$(VENV)/.installed: requirements/build.lock requirements/dev.lock pyproject.toml setup.py
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/build.lock
	$(BIN)/pip install --quiet --require-hashes --no-build-isolation -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# uv alone, so that the locks can be made while pyproject.toml and the locks disagree.
$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/build.lock

# dev.lock is resolved first; app.lock and build.lock take its versions, so all three agree.
lock: $(BIN)/uv
	$(UV_COMPILE) pyproject.toml --extra dev requirements/tools.in -o requirements/dev.lock
	$(UV_COMPILE) pyproject.toml -c requirements/dev.lock -o requirements/app.lock
	$(UV_COMPILE) requirements/tools.in -c requirements/dev.lock -o requirements/build.lock

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# Deliberately unpinned and ignoring our upper bounds: it warns of the next breaking release.
# Not part of `make test` or CI.
test-latest: node_modules/.installed
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(PYTHON) requirements/latest.py requirements pyproject.toml requirements/tools.in \
	  > $(LATEST_VENV)/latest.in
	$(LATEST_BIN)/pip install --quiet --upgrade -r $(LATEST_VENV)/latest.in
	$(LATEST_BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(LATEST_BIN)/python requirements/latest.py compare requirements/dev.lock
	@echo "== pip check"
	-$(LATEST_BIN)/pip check
	@echo "== ruff + pytest with the newest releases"
	$(LATEST_BIN)/ruff check .
	$(LATEST_BIN)/pytest $(PYTEST_ARGS)

# The installable package (README.md, "Production deployment"), built with the locked tools.
# build/ is cleared first: setuptools would otherwise ship modules deleted since the last build.
wheel: setup
	rm -rf build dist
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	@ls dist/*.whl

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(LATEST_VENV) node_modules var .pytest_cache build dist
