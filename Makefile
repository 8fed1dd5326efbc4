# Kelisim: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test bench translations bytecode extract update venv audit clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Compiled bytecode next to the sources (only what changed is rewritten). Python writes it
# itself unless PYTHONDONTWRITEBYTECODE is set, as on some build machines; without it every
# `flask` command and worker start compiles all of learning/ again (a few tenths of a second).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 learning bench config.py wsgi.py

# Translations (learning/translations/{kk,ru,en}/LC_MESSAGES/messages.po; *.mo are built, not kept).
# `make update` after changing user-visible strings: extract them into messages.pot and merge
# them into every catalogue; then translate the new entries (and review any marked fuzzy).
TRANSLATIONS := learning/translations
PYBABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

translations: $(STAMP)
	@if ls $(TRANSLATIONS)/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -D messages; \
	else \
		echo "translations: no catalogues in $(TRANSLATIONS), nothing to compile"; \
	fi

extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(PYBABEL_KEYWORDS) --add-comments=TRANSLATORS: --no-wrap \
		--project=Kelisim --version=0.1.0 --copyright-holder="Kelisim" -o $(TRANSLATIONS)/messages.pot learning

update: extract
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -D messages --no-wrap --ignore-obsolete \
		--ignore-pot-creation-date

run: $(STAMP) translations bytecode
	$(FLASK) db upgrade
	$(FLASK) courses sync
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(STAMP) translations bytecode
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium not found: the browser tests will be skipped (install it with: apt-get install -y chromium)."
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	-@$(BIN)/python -m bench.audit

bench: $(STAMP) translations bytecode
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache
