# `make train` and `make test` set everything up themselves (a .venv here), then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, pinned: its CPU wheel is on this machine's disk; a bare `torch` requirement
# would pull a multi-GB CUDA build. The package itself asks for torch>=2.4.
TORCH ?= torch==2.13.0
FRAMES ?= 10000000

.PHONY: setup train test test-slow test-browser browser-deps lint format clean

$(BIN)/kungfu: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/kungfu

train: setup
	$(BIN)/kungfu train --frames $(FRAMES)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks notebooks

test: lint
	$(BIN)/python -m pytest -q

# the slow checks, the browser test among them (it needs Debian's chromium and playwright)
test-slow: browser-deps
	$(BIN)/python -m pytest -q -m slow

test-browser: browser-deps
	$(BIN)/python -m pytest -q -m slow tests/test_report_browser.py

browser-deps: setup
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/pip install --quiet "playwright>=1.40"

format: setup
	$(BIN)/ruff format src tests benchmarks notebooks
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
