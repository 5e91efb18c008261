# `make train` and `make test` set everything up themselves (a .venv here), then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, on its own: PyPI's Linux wheel of torch is the CUDA build (several GB). For
# the CPU build on an ordinary machine, point TORCH_INDEX at PyTorch's CPU wheel index
# (see the README's Install); this project's own machines keep a CPU wheel of the pinned
# version on disk. The package itself asks for torch>=2.4.
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
FRAMES ?= 10000000

.PHONY: setup train test test-slow test-browser browser-deps lint format measured-games render clean

$(BIN)/kungfu: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/kungfu

train: setup
	$(BIN)/kungfu train --frames $(FRAMES)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks tools notebooks

test: lint
	$(BIN)/python -m pytest -q --durations=15

# the slow checks, the browser test among them (it needs Debian's chromium and playwright)
test-slow: browser-deps
	$(BIN)/python -m pytest -q -m slow

test-browser: browser-deps
	$(BIN)/python -m pytest -q -m slow tests/test_report_browser.py

browser-deps: setup
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/pip install --quiet "playwright>=1.40"

# the table `kungfu games` reads (it ships in the wheel), from benchmarks/results/suite/*.json;
# no benchmark writes it
measured-games: setup
	$(BIN)/python benchmarks/render/measured_games.py --write

# every generated page and table, from the committed result JSONs alone
render: measured-games
	$(BIN)/python benchmarks/render/suite_page.py --write
	$(BIN)/python benchmarks/render/readme_tables.py --write
	$(BIN)/python benchmarks/render/results_table.py --write
	$(BIN)/python benchmarks/render/peers_table.py --write

format: setup
	$(BIN)/ruff format src tests benchmarks tools notebooks
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
