# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Prefect's own state (runs, artifacts) for the demo and the local server: kept in the project.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export R42_PROJECT_DIR ?= $(CURDIR)

.PHONY: install lock demo demo-midterm test test-system-packages serve ui clean prod-up prod-down \
	prod-status

# Installs are reproducible: requirements.lock pins every package the project and its tests
# use (made from a working venv by `make lock`); pyproject.toml's ranges say what the code
# supports. A dependency added to pyproject.toml and not yet locked installs at its newest
# version in range until `make lock` is run again.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip>=24,<27'
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Write requirements.lock from the installed venv (after changing pyproject.toml: make install,
# check the suite, then make lock and commit both).
lock: $(STAMP)
	@{ echo "# Pins of every installed package: make lock writes it, make install uses it."; \
	  $(BIN)/pip freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)=='; \
	} > requirements.lock
	@echo "requirements.lock: $$(grep -c '==' requirements.lock) packages pinned"

# The 2026 cycle end to end on SQLite, a local Prefect and a local outbox (data/demo/).
demo: $(STAMP)
	$(BIN)/python -m demo

# The 2025 mid-term review (sơ kết) on the demo's data, through the shared flows with kind=midterm,
# approved and sent as the yearly report is: data/demo-midterm/reports/vinh-long-r42/2025-midterm/.
demo-midterm: $(STAMP)
	$(BIN)/python -m demo midterm

# The whole suite: SQLite and a throwaway PostgreSQL cluster, a real SMTP server, Prefect's harness.
# On TEST_WORKERS pytest-xdist workers (one a core on CI's two), each with its own cluster and
# Prefect harness. A module runs whole on one worker (its module-scoped fixtures are set up
# once), the slowest modules first (tests/conftest.py SLOWEST_FIRST; not xdist's reordering by
# test count), so the workers finish together on the short ones.
# (--dist loadgroup does not group on pytest 9.2: xdist 3.8 sets a node id pytest no longer reads.)
TEST_WORKERS ?= 2
test: $(STAMP) test-system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Debian packages the suite drives for real: PostgreSQL (a throwaway cluster) and chromium
# (Playwright's own browser download does not work here; the tests use /usr/bin/chromium);
# LibreOffice, poppler and Liberation fonts (Times New Roman's metrics, Vietnamese glyphs) turn
# the report DOCX (and Calc its XLSX annex) into a PDF whose pages are checked (about 15 s to
# install); Postfix for its smtp-sink, a C SMTP test server with injectable faults (installed
# unconfigured: no MTA runs);
# SoftHSM2, a real PKCS#11 token the report-signing tests sign with; Dovecot, the IMAP server
# the replies-by-email tests start in a throwaway folder (the system service is never used).
test-system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/soffice || missing="$$missing libreoffice-writer-nogui"; \
	test -e /usr/lib/libreoffice/program/libsclo.so || missing="$$missing libreoffice-calc-nogui"; \
	test -x /usr/bin/pdfinfo || missing="$$missing poppler-utils"; \
	test -d /usr/share/fonts/truetype/liberation2 || missing="$$missing fonts-liberation2"; \
	test -x /usr/sbin/smtp-sink || missing="$$missing postfix"; \
	test -x /usr/bin/softhsm2-util || missing="$$missing softhsm2"; \
	test -x /usr/sbin/dovecot || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# A local Prefect server (the scheduler) and one process serving every deployment of prefect.yaml.
serve: $(STAMP)
	$(BIN)/r42 load-registry
	$(BIN)/python -m flows.serve --local-server

# The Prefect UI on the runs of `make demo` (and of `make serve`).
ui: $(STAMP)
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

# The production layout with real processes: PostgreSQL (Prefect's and the application's
# databases), a Prefect server, the deployments on the process work pool r42-process, two
# workers and the web form; state, pids and logs under data/prod/ (ops/production.py).
# prod-up starts only what is not running (run it again after a crash or a reboot); it needs
# no terminal (cron, systemd). prod-status lists each part; one part is restarted with
# `.venv/bin/python -m ops.production restart r42-worker-1`.
prod-up: $(STAMP)
	$(BIN)/python -m ops.production up

prod-down:
	$(BIN)/python -m ops.production down

prod-status:
	$(BIN)/python -m ops.production status

clean:
	rm -rf $(VENV) data/demo data/demo-midterm .prefect .pytest_cache
