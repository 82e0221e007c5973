# Two commands do everything on a fresh machine (Python 3.11 on PATH):
#   make demo   install, generate demo data, dbt build, print the scorecard
#   make test   install with test extras and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,otel,report,semantic,dagster,spark]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/aimetrics demo

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) target logs aimetrics.duckdb aimetrics.duckdb.lock aimetrics_serving.duckdb demo_data
