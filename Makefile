# Two commands work on a fresh machine with only python3 and pip: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-server test lint typecheck typecheck-tests pytest docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Only the demo's own output goes to stdout (`make demo ARGS=--json | jq` parses): make echoes
# no command, and setting up .venv on a first run reports on stderr.
demo:
	@test -f $(STAMP) || echo "setting up $(VENV) first (about a minute)" >&2
	@$(MAKE) -s --no-print-directory $(STAMP) >&2
	@$(BIN)/python examples/demo.py $(ARGS)

# the hosted edition: needs PostgreSQL and Redis on this machine (see README.md)
demo-server: $(STAMP)
	$(BIN)/python examples/server.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy
	$(MAKE) --no-print-directory typecheck-tests

# The tests (and, through them, examples/studio and tests/support) less strictly: a test need
# not annotate its fixtures, but bodies are checked and so is every `type: ignore`.
typecheck-tests: $(STAMP)
	MYPYPATH=tests/support:examples $(BIN)/mypy --explicit-package-bases \
		--exclude '^tests/support/' --allow-untyped-defs --allow-incomplete-defs \
		--allow-untyped-calls --allow-any-generics --check-untyped-defs tests

pytest: $(STAMP)
	$(BIN)/pytest -q

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

test: lint typecheck docs pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_plan.py
	$(BIN)/python benchmarks/state_store.py
	$(BIN)/python benchmarks/emulator_batch.py
	$(BIN)/python benchmarks/push_latency.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
