# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23"
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/bioassay.py

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q tests

lint: $(STAMP)
	$(PY) -m ruff check bayesformula tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info bioassay_figures
