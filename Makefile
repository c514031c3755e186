# The README's commands. `make run` and `make test` set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
CHROMIUM := /usr/bin/chromium
# The accessibility tests inject axe-core (npm, pinned in package-lock.json) into those pages.
# npm wherever it is installed; Debian's package when there is none.
NPM := $(or $(shell command -v npm 2>/dev/null),/usr/bin/npm)
AXE := node_modules/axe-core/axe.min.js
# The settings default to production (DEBUG off); these commands are for development, so they
# turn DEBUG on unless the environment already says otherwise. The test suite sets it itself too.
export DJANGO_DEBUG ?= true

.PHONY: run test lint format bench clean

run: $(VENV)/.runtime-installed
	$(PY) manage.py runstack

test: $(VENV)/.dev-installed $(CHROMIUM) $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark under bench/ prints its table; docs/PERFORMANCE.md and docs/ENGINE.md hold the figures.
bench: $(VENV)/.dev-installed
	@for script in bench/engine.py bench/upload.py bench/pages.py bench/saturation.py bench/tracking.py bench/latency.py bench/store.py bench/embed.py bench/metrics.py bench/fairness.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; \
	done

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The web app's requirements and the offline engine's (runstack starts it beside the web app).
$(VENV)/.runtime-installed: requirements.txt offline_engine/requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt -r offline_engine/requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt offline_engine/requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt -r offline_engine/requirements.txt
	touch $@ $(VENV)/.runtime-installed

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NPM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm

# npm ci installs exactly the lock file's versions (checked against its hashes) and runs no
# package scripts; npm gives the files an old fixed date, hence the touch.
$(AXE): package.json package-lock.json | $(NPM)
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache .ruff_cache node_modules
