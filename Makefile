# The two set-up commands of README.md. Both work on a fresh machine with Python >= 3.10.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned: this exact CPU wheel is what the project is tested with.
TORCH := torch==2.13.0

.PHONY: demo test install install-dev lint bench mutate clean docs-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .

install-dev: install
	$(BIN)/pip install --quiet -e ".[dev]"

demo: install
	$(BIN)/embedlab demo

test: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

# Every example of README.md and docs/*.md, run as written and compared with what the documents show
# (tests/docs_check.py says how). `make test` runs the fast blocks; this runs the slow ones too (about 25 minutes).
docs-check: install-dev
	$(BIN)/python tests/docs_check.py --all

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The figures in README.md; together they take one to two hours on 2 cores (each script prints its command line and load).
bench: install-dev
	$(BIN)/python benchmarks/encode_throughput.py
	$(BIN)/python benchmarks/search_latency.py
	$(BIN)/python benchmarks/ingest_memory.py
	$(BIN)/python benchmarks/maps_tsne.py
	$(BIN)/python benchmarks/evaluate_cache.py
	$(BIN)/python benchmarks/finetune_before_after.py
	$(BIN)/python benchmarks/store_stress.py
	$(BIN)/python benchmarks/serve_throughput.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/explorer_latency.py
	$(BIN)/python benchmarks/scale_ingest.py
	$(BIN)/python benchmarks/long_text_policy.py

# Mutation testing of the core modules (not part of CI; see docs/testing.md). Plants single-line bugs and
# checks that some test fails for each; prints the surviving mutants and the survival rate. One module at a
# time, each with the tests that exercise it: `make mutate MODULE=src/embedlab/store/recipe.py` (minutes);
# plain `make mutate` runs every core module one after another.
# make mutate [MODULE=src/embedlab/store/recipe.py] [CHILDREN=1]: mutation testing, one module or all (docs/testing.md)
mutate: install-dev
	nice -n 19 $(BIN)/python benchmarks/mutate_module.py $(or $(MODULE),--all) $(if $(CHILDREN),--children $(CHILDREN))

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache mutants
