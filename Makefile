# Kelisim: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test bench translations venv audit clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -f -d learning/translations -D messages >/dev/null 2>&1 || true

run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) courses sync
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(STAMP) translations
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium not found: the browser tests will be skipped (install it with: apt-get install -y chromium)."
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	-@$(BIN)/python -m bench.audit

bench: $(STAMP) translations
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache
