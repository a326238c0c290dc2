# Set-up and everyday commands. `make serve` and `make test` each install
# what they need first, so either one works on a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STEPS ?= steps
OUT ?= site
PORT ?= 8000

.PHONY: setup serve build validate test browser bench clean golden

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

serve: setup
	$(PY) build.py serve --steps $(STEPS) --out $(OUT) --port $(PORT)

build: setup
	$(PY) build.py build --steps $(STEPS) --out $(OUT)

validate: setup
	$(PY) build.py validate $(STEPS) --strict

# Headless Chromium from Debian for the browser tests; installing it needs root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium not found: run 'sudo apt-get install chromium' for the browser tests"; \
	  fi; }

test: setup browser
	$(PY) -m pytest

bench: setup
	$(PY) bench/build.py

clean:
	rm -rf $(OUT) .pytest_cache

# Rewrite the expected files of the golden-output and broken-flow tests.
golden: setup
	STAPPEN_REGENERATE=1 $(PY) -m pytest -q tests/test_golden.py tests/test_broken_flows.py
