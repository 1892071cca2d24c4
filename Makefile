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

# Two workers per core (at most 8): many tests wait (a step's timeout, a hung page, a
# slow server) while the cores could work. On 2 cores, idle: 2 workers 228 s with the
# cores 77 % busy, 3 workers 192 s (91 %), 4 workers 185 s (97 %). Each module runs whole
# on one worker (`--dist loadfile`), so a module's expensive shared fixture runs once;
# tests/conftest.py starts the longest modules first. (`--dist loadgroup` does not work
# with pytest 9: xdist 3.8 sets a node-id attribute pytest no longer reads, so groups
# were spread over the workers and set up twice.)
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); w=$$((2 * n)); [ $$w -le 8 ] || w=8; echo $$w)

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
