# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed
	@sh scripts/ensure-chromium.sh
	@sh scripts/ensure-recorder-reference.sh

# Re-install only when the package definition changes, so `make setup` is cheap to repeat.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: setup
	$(VENV)/bin/collector demo

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build dist
