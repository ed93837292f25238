# One command each for a newcomer on a fresh machine:
#   make demo    the whole chain into giftledger-demo.db (giftledger demo)
#   make test    the test suite (PostgreSQL tests skip unless a server is configured)
# Both create .venv and install the project into it the first time.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test check bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/giftledger demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest

check: $(BIN)/.installed
	$(BIN)/ruff check src tests $(wildcard benchmarks) docs/_hooks
	$(BIN)/mypy src

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
