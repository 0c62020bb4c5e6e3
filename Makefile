# Portail Famille — the two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FAMILLE_INSTANCE ?= $(CURDIR)/instance

.PHONY: install demo test test-sqlite test-postgres lint typecheck bench messages clean

$(STAMP): pyproject.toml examples/extra_reasons/pyproject.toml examples/desk_payment/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e examples/extra_reasons -e examples/desk_payment
	touch $(STAMP)

install: $(STAMP)

## make demo: install, create the SQLite database with the demo data, serve on http://127.0.0.1:5000
## (with the local PayFiP simulator on http://127.0.0.1:5050 and the background jobs' worker,
## logging to instance/worker.log, both stopped with the portal)
demo: $(STAMP)
	$(BIN)/famille init
	$(BIN)/famille demo
	$(BIN)/famille payfip-simulator --host 127.0.0.1 --port 5050 & sim=$$!; \
	$(BIN)/famille worker > "$(FAMILLE_INSTANCE)/worker.log" 2>&1 & worker=$$!; \
	trap 'kill $$sim $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/famille serve --host 127.0.0.1 --port 5000

## make test: install and run the whole suite (FAMILLE_TEST_DATABASE_URL selects PostgreSQL), on every
## core (pytest-xdist; each test file stays in one worker; TEST_WORKERS= runs it in one process)
TEST_WORKERS ?= -n auto --dist loadfile
test: $(STAMP)
	$(BIN)/python -m pytest $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

## make messages: extract every French text into messages.pot, the template for a new language
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot .

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
