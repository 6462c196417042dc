# Attention in Audio: the course's commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
LAB_ARGS ?=   # e.g. LAB_ARGS=--allow-root inside a container, or --no-browser
LESSON_00 := notebooks/00_welcome_and_setup.ipynb
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: help install lab test unit notebooks-clean notebooks book bench lint clean-notebooks lock \
	test-browser browser

help:
	@echo "make lab    - create .venv if missing, install, open JupyterLab on lesson 00"
	@echo "make test   - unit tests, notebook cleanliness, every notebook run by nbval (CI profile)"
	@echo "make test-browser - lessons 00-01 and the microphone in JupyterLab in headless Chromium"
	@echo "                    (installs Chromium and chromedriver with apt where they are missing)"
	@echo "make book   - the course as a book: every lesson run in the full profile (build/_build/html)"
	@echo "make bench  - run the benchmarks, figures under results/"
	@echo "make clean-notebooks - strip outputs and execution counts before committing"
	@echo "make lock   - re-resolve the dependency ranges into $(LOCK) (then run make test)"

# Every install takes the exact versions of $(LOCK) (pip, setuptools and wheel included), so a
# fresh clone gets what the test suite passed with, whatever was released today. The stamp is
# rebuilt when the ranges or the lock change; a missing .venv is created.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "the course needs Python 3.11 or newer: make lab PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# default_url makes the browser, and the URL printed with --no-browser, open lesson 00.
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ARGS) --LabApp.default_url=/lab/tree/$(LESSON_00)

unit: $(STAMP)
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --doctest-modules course_utils -q

notebooks-clean: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py --check $(NOTEBOOKS)

notebooks: $(STAMP)
	COURSE_PROFILE=ci $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=900 -p no:cacheprovider $(NOTEBOOKS)

test: unit notebooks-clean notebooks

# The browser tests drive JupyterLab in the system's headless Chromium through its chromedriver;
# where either is missing, `make browser` installs both with apt (Debian, Ubuntu).
CHROMIUM     ?= $(shell command -v chromium || echo /usr/bin/chromium)
CHROMEDRIVER ?= $(shell command -v chromedriver || echo /usr/bin/chromedriver)
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-browser: $(STAMP)
	@test -x $(CHROMIUM) && test -x $(CHROMEDRIVER) || $(MAKE) browser
	$(BIN)/python -m pytest -m browser tests/browser

browser:
	@command -v apt-get >/dev/null || { \
		echo "make browser installs Chromium and chromedriver with apt (Debian, Ubuntu)."; \
		echo "Elsewhere install both with your package manager, then run make test-browser"; \
		echo "(or point CHROMIUM= and CHROMEDRIVER= at them)."; exit 1; }
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y chromium chromium-driver \
		|| $(SUDO) apt-get install -y chromium-browser chromium-chromedriver  # Ubuntu's names

# The book: every lesson executed in the full profile as a static page (Jupyter Book, book/).
# BOOK_REPOSITORY=https://github.com/you/attention-in-audio adds Binder launch buttons.
# A build is a batch job with no browser beside it: torch gets every core (BOOK_THREADS).
BOOK_REPOSITORY ?=
BOOK_THREADS    ?= $(shell $(PYTHON) -c 'import os; print(os.cpu_count() or 1)')
book: $(STAMP)
	mkdir -p build
	cp book/_config.yml build/_config.yml
	test -z "$(BOOK_REPOSITORY)" || printf '%s\n' "repository:" "  url: $(BOOK_REPOSITORY)" \
		"  branch: main" "launch_buttons:" "  binderhub_url: https://mybinder.org" \
		"  notebook_interface: jupyterlab" >> build/_config.yml
	COURSE_PROFILE=full COURSE_STATIC=1 COURSE_THREADS=$(BOOK_THREADS) \
		$(BIN)/jupyter-book build . --config build/_config.yml --toc book/_toc.yml --path-output build
	@echo "The book: build/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check course_utils tests benchmarks tools book

clean-notebooks: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py $(NOTEBOOKS)

# Resolve pyproject's ranges afresh in a throw-away environment and write every installed
# version to $(LOCK). Commit the new lock only after `make test` passes with it (README).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	.venv-lock/bin/python tools/write_lock.py $(LOCK)
	rm -rf .venv-lock
