# Attention in Audio: the course's commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_ARGS ?=   # e.g. LAB_ARGS=--allow-root inside a container, or --no-browser
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: help install lab test unit notebooks-clean notebooks book bench lint clean-notebooks

help:
	@echo "make lab    - create .venv if missing, install, open JupyterLab on lesson 00"
	@echo "make test   - unit tests, notebook cleanliness, every notebook run by nbval (CI profile)"
	@echo "make book   - execute every lesson in the full profile, HTML under build/"
	@echo "make bench  - run the benchmarks, figures under results/"
	@echo "make clean-notebooks - strip outputs and execution counts before committing"

# The stamp is rebuilt when the dependencies change; a missing .venv is created.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/00_welcome_and_setup.ipynb

unit: $(STAMP)
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --doctest-modules course_utils -q

notebooks-clean: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py --check $(NOTEBOOKS)

notebooks: $(STAMP)
	COURSE_PROFILE=ci $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=900 -p no:cacheprovider $(NOTEBOOKS)

test: unit notebooks-clean notebooks

book: $(STAMP)
	mkdir -p build
	COURSE_PROFILE=full $(BIN)/jupyter nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=3600 --output-dir build $(NOTEBOOKS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check course_utils tests benchmarks tools

clean-notebooks: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py $(NOTEBOOKS)
