# The README's commands. Every target sets up what it needs into .venv (when missing or stale).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR := $(abspath $(or $(MLHOPS_DATA_DIR),data))
export MLHOPS_DATA_DIR := $(DATA_DIR)
export DAGSTER_HOME := $(DATA_DIR)/dagster_home
export MLHOPS_WAREHOUSE_PATH := $(DATA_DIR)/warehouse.duckdb
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The demo vocabulary's manifest, or (MLHOPS_VOCAB_DIR set) the Athena one: each has its own target folder.
MANIFEST := dbt_omop/target/$(if $(MLHOPS_VOCAB_DIR),athena/)manifest.json
BENCH_PATIENTS ?= 10000
DBT_SOURCES := $(shell find dbt_omop -path dbt_omop/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)

.PHONY: install manifest instance demo test test-fast test-dbt test-integration update-snapshot ui mlflow-ui bench lint lint-sql format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, from the pinned CPU build; a looser request would pull a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(BIN)/python -c "from mlhops_dagster.settings import load_settings; from resources.dbt_project import prepare_manifest; prepare_manifest(load_settings())"

instance: $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

demo: install manifest instance
	$(BIN)/mlhops demo

# Every tier (CI), on two workers: each module's tests stay on one worker (their module fixtures are built once)
# and the modules reading the session's whole-graph run share one (tests/conftest.py). The tiers alone:
# test-fast (tests/unit: domain code, no dbt or Dagster instance), test-dbt (builds the dbt project),
# test-integration (Dagster graphs, PostgreSQL).
PYTEST_WORKERS ?= 2
test: install manifest
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup --durations=15 tests

test-fast: install
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup tests/unit

test-dbt: install
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup --durations=10 tests/dbt

test-integration: install manifest
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup --durations=10 tests/integration

# After an intended change of the graph: rewrite the definitions snapshot, then review its diff.
update-snapshot: install manifest
	$(BIN)/pytest -q tests/integration/test_definitions.py --update-snapshot

ui: install manifest instance
	@echo "Dagster UI on http://127.0.0.1:3000 (webserver + daemon; instance in $(DAGSTER_HOME))"
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

mlflow-ui: install
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(DATA_DIR)/mlflow/mlflow.db \
		--default-artifact-root $(DATA_DIR)/mlflow/artifacts --host 127.0.0.1 --port 5000

bench: install manifest
	$(BIN)/python benchmarks/run.py --patients $(BENCH_PATIENTS)

# The checks of .pre-commit-config.yaml, over the whole tree.
lint: install lint-sql
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml --severity-level high -r mlhops_dagster assets resources sensors jobs

# sqlfluff's dbt templater compiles the project: against a scratch DuckDB file, into its own target folder.
lint-sql: install
	mkdir -p .make/sqlfluff
	cd dbt_omop && MLHOPS_WAREHOUSE_PATH=$(CURDIR)/.make/sqlfluff/warehouse.duckdb ../$(BIN)/sqlfluff lint models tests

format: install
	mkdir -p .make/sqlfluff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd dbt_omop && MLHOPS_WAREHOUSE_PATH=$(CURDIR)/.make/sqlfluff/warehouse.duckdb ../$(BIN)/sqlfluff fix models tests

clean:
	rm -rf $(DATA_DIR) dbt_omop/target dbt_omop/logs
