# Kontor's entry points. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIZE ?= medium

.PHONY: run test test-sqlite test-postgres lint format bench fuzz messages lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Local serving is plain HTTP on 127.0.0.1; deployments keep the HTTPS default.
run: export HTTPS ?= false
run: $(STAMP)
	$(BIN)/kontor migrate --no-input
	@if [ -f var/.demo-loaded ]; then $(BIN)/kontor demo --logins; \
	else $(BIN)/kontor demo --size small && touch var/.demo-loaded; fi
	@echo "Kontor runs at http://127.0.0.1:8000  (Ctrl-C stops the server and the worker)"
	$(BIN)/kontor serve --with-worker

# Lint, then the whole suite on SQLite, then on PostgreSQL (a throwaway cluster
# unless TEST_DATABASE_URL names a server). With CI=true no pass may be skipped.
test: $(STAMP) lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/kontor makemigrations --check --dry-run > /dev/null
	@# The import contracts in pyproject.toml (layers, no cycles): docs/architecture.md.
	PYTHONPATH=src $(BIN)/lint-imports --no-cache

# Compiled catalogs for the language tests (msgfmt from gettext), when a .po is newer.
MO := $(patsubst %.po,%.mo,$(wildcard src/kontor/locale/*/LC_MESSAGES/*.po))
%.mo: %.po
	msgfmt --check-format -o $@ $<

test-sqlite: $(STAMP) $(MO)
	@echo "== pytest on SQLite"
	$(BIN)/python scripts/run_tests.py --database sqlite $(PYTEST_ARGS)

test-postgres: $(STAMP) $(MO)
	@echo "== pytest on PostgreSQL"
	$(BIN)/python scripts/run_tests.py --database postgres $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

# Benchmark on the real server: SIZE=small|medium|large, DATABASES=sqlite,postgres (default
# both). Writes bench/results/<date>-<size>.md; see bench/README.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py --size $(SIZE) $(if $(DATABASES),--databases $(DATABASES))

# schemathesis against a running Kontor (admin and read-only tokens; SQLite, and PostgreSQL:
# FUZZ_DATABASE_URL or a throwaway cluster). Slow, so not part of `make test`. Bounds and
# schemathesis options: FUZZ_ARGS="--max-examples 100 --max-time 1800 -- --phases fuzzing".
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py $(FUZZ_ARGS)

messages: $(STAMP)
	cd src/kontor && KONTOR_VAR_DIR=../../var ../../$(BIN)/kontor makemessages -l de --no-obsolete --no-location
	cd src/kontor && KONTOR_VAR_DIR=../../var ../../$(BIN)/kontor compilemessages

# Refresh the lock file from pyproject's pins (run on a clean venv).
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable --exclude kontor | sort -f > requirements.lock

clean:
	rm -rf $(VENV) var/static
