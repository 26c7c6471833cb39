# The README's commands. Everything runs from a virtual environment made here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PARTSVC_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/partsvc.db
export PARTSVC_INSTANCE_DIR ?= $(CURDIR)/instance
# The suite runs on this many processes (pytest-xdist), each test file on one of them.
TEST_WORKERS ?= 2
# schemathesis reports its operations as subtests under pytest-xdist and then runs far
# fewer examples: the API fuzz runs on its own, as two processes each taking every other
# operation (PARTSVC_TEST_SHARD, tests/conftest.py).
FUZZ := tests/api/test_schema_fuzz.py

.PHONY: demo test lint install clean-demo bench wheel-check

$(BIN)/partsvc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/partsvc

## make demo: install, migrate an SQLite database, load the demo data, serve on :5000
demo: install
	$(BIN)/partsvc db upgrade
	$(BIN)/partsvc demo
	@echo "serving on http://127.0.0.1:5000"
	PARTSVC_LOG_FORMAT=$${PARTSVC_LOG_FORMAT:-text} $(BIN)/partsvc serve --host 127.0.0.1 --port 5000

## make test: lint, types, architecture contracts, security checks, then the whole test suite
test: install lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 --ignore=$(FUZZ)
	@# The fuzz in two halves side by side, one per core; the first half's report follows.
	@mkdir -p build
	PARTSVC_TEST_SHARD=0/2 $(BIN)/python -m pytest -q $(FUZZ) > build/fuzz-first-half.log 2>&1 & \
	  first=$$!; PARTSVC_TEST_SHARD=1/2 $(BIN)/python -m pytest -q $(FUZZ); second=$$?; \
	  wait $$first; status=$$?; tail -n 40 build/fuzz-first-half.log; \
	  [ $$status -eq 0 ] && [ $$second -eq 0 ]

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/translations.py check
	$(BIN)/bandit -c pyproject.toml -r partsvc -q
	@# Exit 2 is "UNCHECKED" (no advisory data reaches this machine): not a pass, but no
	@# reason to stop the lint of a machine without network (README, "Two commands").
	$(BIN)/python tools/audit_dependencies.py || { status=$$?; [ $$status -eq 2 ] && \
	  echo "make lint: dependency audit UNCHECKED (exit 2) -- every other check passed"; }

## make wheel-check: build the wheel, install it outside the checkout, serve every page and PDF
wheel-check: install
	$(BIN)/python tools/check_wheel.py

clean-demo:
	rm -f instance/partsvc.db instance/partsvc.db-wal instance/partsvc.db-shm instance/demo-tokens.txt

bench: install
	$(BIN)/python bench/ledger.py
