# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
# A second environment with pytest-playwright-asyncio and not pytest-playwright (the two
# refuse each other): the plugin's tests run an async project's pytest with it.
ASYNC_VENV ?= .venv-async
PYTHON ?= python3

.PHONY: setup demo test lint bench clean

# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set (as on some
# CI machines) every start of collector would compile it from source again: setup compiles
# it as a wheel install does (quick when nothing changed).
setup: $(VENV)/.installed $(ASYNC_VENV)/.installed
	@$(PY) -m compileall -q collector
	@sh scripts/ensure-chromium.sh
	@sh scripts/ensure-xvfb.sh
	@sh scripts/ensure-npm-fixture.sh "recorder reference" tests/recorder-reference \
		@puppeteer/replay/package.json puppeteer-core/package.json
	@sh scripts/ensure-npm-fixture.sh esbuild tests/sourcemap-app .bin/esbuild
	@sh scripts/ensure-postgresql.sh

# Re-install only when the package definition changes, so `make setup` is cheap to repeat.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(ASYNC_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(ASYNC_VENV)
	$(ASYNC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(ASYNC_VENV)/bin/python -m pip install --quiet -e . pytest-playwright-asyncio pytest-xdist
	touch $@

demo: setup
	$(VENV)/bin/collector demo

# Two workers on two cores (the suite is CPU-bound: Chromium's own processes do most of
# the work). Each module runs whole on one worker (`--dist loadfile`), so a module's
# expensive shared fixture runs once; tests/conftest.py starts the longest modules first.
# (`--dist loadgroup` does not work with pytest 9: xdist 3.8 sets a node-id attribute
# pytest no longer reads, so groups were spread over both workers and set up twice.)
TEST_WORKERS ?= 2

# The type check runs before the tests: a type error fails `make test` (and CI) like a test.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(ASYNC_VENV) build dist
