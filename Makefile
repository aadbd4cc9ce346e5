# Vigie — the two commands: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
# The app reads it too: links in emails sent by jobs and on the quitus point to this port.
export PORT
# Parallel test processes (pytest-xdist); each has its own test database and Redis database.
TEST_WORKERS ?= 2
MO     := portal/translations/en/LC_MESSAGES/messages.mo

.PHONY: run dev test lint format bench install translations extract-messages worker clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

translations: $(MO)

$(MO): portal/translations/en/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d portal/translations

run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo ""
	@echo "  Vigie is running on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	@echo "  Emails and SMS land in http://127.0.0.1:$(PORT)/dev/outbox"
	@echo ""
	@exec $(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py wsgi:app

# Development: Flask's server with the reloader (restarts on every code change).
dev: install translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@exec $(FLASK) run --host 127.0.0.1 --port $(PORT) --reload --with-threads

worker: install translations
	$(PY) worker.py

test: install translations
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install translations
	$(PY) -m tests.bench.dashboard
	$(PY) -m tests.bench.contracts
	$(PY) -m tests.bench.firm
	$(PY) -m tests.bench.storage
	$(PY) -m tests.bench.api
	$(PY) -m tests.bench.digest

extract-messages: install
	$(VENV)/bin/pybabel extract -F portal/translations/babel.cfg -k _l -k N_ -k lazy_ngettext:1,2 -o portal/translations/messages.pot portal templates
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations

clean:
	rm -rf $(VENV) instance tests/.cache
