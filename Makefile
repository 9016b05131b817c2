# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# The environment is built on Python >= 3.12: $(PYTHON) when given (make PYTHON=python3.12),
# else the newest 3.13/3.12 on PATH, pyenv's or uv's (scripts/find-python).
PYTHON ?=
export PYTHON
# 3.12 or 3.13 to build on that minor version only (make test-fast PYTHON_VERSION=3.12 VENV=...)
PYTHON_VERSION ?=
export PYTHON_VERSION
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DOCS_STAMP := $(VENV)/.docs-stamp
ENGINES_STAMP := $(VENV)/.engines-stamp

.PHONY: demo test test-fast docs docs-outputs lint bench clean

$(STAMP): pyproject.toml requirements/lock.txt
	sh scripts/ensure-venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23"
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[test]"
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP) pyproject.toml requirements/lock.txt
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[docs]"
	touch $(DOCS_STAMP)

# the optional inference engines (nutpie, JAX with NumPyro and BlackJAX, pymc-extras), so that
# the tests check every sampler adapter
$(ENGINES_STAMP): $(STAMP) pyproject.toml requirements/lock.txt
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[all]"
	touch $(ENGINES_STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/bioassay.py

# the suite runs in TEST_WORKERS processes (pytest-xdist), each test file in one of them so
# that a file's shared fits are made once; TEST_WORKERS=0 runs it in this process
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: $(STAMP) $(DOCS_STAMP) $(ENGINES_STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q $(XDIST) --durations=30 tests

# the inner loop: everything but the tests that run a real sampler
test-fast: $(STAMP) $(DOCS_STAMP) $(ENGINES_STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q $(XDIST) -m "not slow" tests

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# rewrite the outputs shown in README.md and docs/*.md (the ```text block after a ```python
# block, the lines after a `$ bayesformula ...` command) from what the code prints now;
# tests/test_docs_run.py checks them. PAGES=docs/priors.md limits it to some pages.
docs-outputs: $(STAMP)
	MPLBACKEND=Agg $(PY) -m tests.docs_outputs --write $(PAGES)

# Bambi (for the comparison) lives in its own environment: it pins formulae < 0.7.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed-stamp: benchmarks/requirements-bambi.txt
	sh scripts/ensure-venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements-bambi.txt
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed-stamp
	$(PY) benchmarks/run.py --bambi-python $(BENCH_VENV)/bin/python --json benchmarks/results.json

# ruff, and the layer contract of pyproject.toml's [tool.importlinter] (each layer imports only
# the layers below it)
lint: $(STAMP)
	$(PY) -m ruff check bayesformula tests examples benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .venv-py3.12 build *.egg-info bioassay_figures site
