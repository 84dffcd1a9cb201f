# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run   - virtual environment, requirements, demo database, dashboard
#   make test  - test requirements, then every test (browser tests need /usr/bin/chromium)
#   make lint  - test requirements, then ruff (rules in pyproject.toml)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DB := data/demo.duckdb
PORT ?= 8501

.PHONY: run test lint demo bench

run: $(VENV)/.runtime $(DB)
	$(BIN)/python serve.py --server.port=$(PORT)

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .

demo: $(VENV)/.runtime
	$(BIN)/python -m engine demo --db $(DB)

bench: $(VENV)/.runtime
	$(BIN)/python -m bench $(ARGS)

$(DB): | $(VENV)/.runtime
	$(BIN)/python -m engine demo --db $(DB)

$(VENV)/.runtime: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-spark.txt $(VENV)/.runtime
	$(BIN)/python -m pip install -q -r requirements-dev.txt -r requirements-spark.txt
	touch $@
