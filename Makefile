# Two commands for a newcomer: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the test suite drives for real: a browser, an SSH server, systemd's unit checker,
# PostgreSQL (the cloud's tests start their own server with initdb + pg_ctl).
TEST_DEBS := chromium openssh-server openssh-client systemd postgresql
# The booted appliance (tests/provisioning/test_booted_appliance.py): a Debian root made with
# mmdebstrap, booted with systemd-nspawn on a veth pair.
TEST_DEBS += systemd-container mmdebstrap iproute2
# The arm64 import test (tests/provisioning/test_arm64_wheel.py): aarch64 programs through qemu.
TEST_DEBS += qemu-user-static binfmt-support

.PHONY: demo test test-stress coverage install translations system-deps bench wheel clean

# pip's and setuptools' chatter goes to a log, shown only when an install fails.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	@echo "installing the kiosk and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/pip install --quiet -e '.[test,provision]' >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	touch $@

install: $(STAMP) translations

# Catalogues are compiled here, never committed as binaries.
translations: $(STAMP)
	@if [ -d web/translations ] && ls web/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d web/translations; fi
	@if ls cloud/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d cloud/translations >/dev/null; fi

system-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "not root: tests needing$$missing will be skipped (install them with apt-get)"; fi; \
	fi

demo: install
	$(BIN)/python -m appliance.demo

# The whole suite on TEST_WORKERS xdist workers, whole modules per worker (module fixtures and the leak
# check stay per module), longest modules first (tests/conftest.py orders them); every worker starts its
# own servers. Most tests wait on servers, browsers and children, so more workers than cores pays.
TEST_WORKERS ?= 3
test: install system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Line coverage of the product packages over the whole suite (in-process code; the kiosk and cloud started
# as child processes are not traced). Not in CI: tracing slows the run.
coverage: install system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		--cov --cov-report=term:skip-covered --cov-report=json:test-artifacts/coverage.json

# Not in CI: the driver and web suites STRESS_RUNS times while a CPU hog keeps every core
# busy, to show no test leans on a sleep or a timing that only holds on an idle machine.
STRESS_RUNS ?= 3
test-stress: install
	@hogs=""; for i in $$(seq $$(nproc)); do $(BIN)/python -c 'while True: pass' & hogs="$$hogs $$!"; done; \
	trap 'kill $$hogs' EXIT; \
	for run in $$(seq $(STRESS_RUNS)); do echo "== stress run $$run of $(STRESS_RUNS), $$(nproc) hog(s)"; \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/drivers tests/web || exit 1; done

bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

wheel: install
	$(BIN)/pip wheel --quiet --no-deps -w dist .

clean:
	rm -rf $(VENV) build dist *.egg-info var test-artifacts .coverage .coverage.*
