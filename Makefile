# Two set-up commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE ?= sample_data/instructions.jsonl
LINT   := $(wildcard studio tests benchmarks sample_data)

.PHONY: run test lint format bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/studio $(SAMPLE)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check $(LINT)
	$(BIN)/ruff format --check $(LINT)
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix $(LINT)
	$(BIN)/ruff format $(LINT)

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dev

# Installs the peer tools; each benchmark's command and figures are in docs/benchmarks.md.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.datagen --rows 1000000 --format parquet jsonl csv
	@echo "data ready; run the benchmarks listed in docs/benchmarks.md"

clean-venv:
	rm -rf $(VENV)
