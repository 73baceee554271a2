# valuechain: two commands on a fresh machine.
#   make run   — create .venv, install, migrate, seed the demo chain, serve at http://127.0.0.1:8000
#   make test  — install what the tests need (the fine-tuning extra too) and run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# llama.cpp is compiled for a portable CPU baseline so one build works on any x86-64 machine.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[test,train]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/valuechain init
	$(BIN)/valuechain demo
	$(BIN)/valuechain serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

docs: $(VENV)/.installed
	$(BIN)/python -m valuechain.docgen

clean:
	rm -rf $(VENV) .pytest_cache
