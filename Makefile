# Set-up and everyday commands. `make serve` and `make test` each install
# what they need first, so either one works on a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STEPS ?= steps
OUT ?= site
PORT ?= 8000

.PHONY: setup serve build validate test system bench clean golden screenshots

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

# Debian's headless Chromium for the browser tests and PostgreSQL for the
# storage tests (the tests start their own server); installing needs root.
SYSTEM_PACKAGES := chromium postgresql
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing:$$missing; run 'sudo apt-get install$$missing' for the browser and PostgreSQL tests"; \
	  fi; \
	fi

test: setup system
	$(PY) -m pytest

bench: setup
	$(PY) bench/build.py
	$(PY) bench/rules.py
	$(PY) bench/wallet.py

clean:
	rm -rf $(OUT) .pytest_cache

# Rewrite the expected files of the golden-output and broken-flow tests.
golden: setup
	STAPPEN_REGENERATE=1 $(PY) -m pytest -q tests/test_golden.py tests/test_broken_flows.py

# Walk the VIL journey in Chromium (tests/test_journey.py) and save a PNG of
# each page it passes, for the README and the authors' overview
# (docs/screenshots.md).
SCREENSHOTS ?= docs/screenshots
screenshots: setup system
	STAPPEN_SCREENSHOTS=$(SCREENSHOTS) $(PY) -m pytest -q tests/test_journey.py
