# Every target sets itself up: a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: run test demo bench lint clean install stress browser screenshot

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# make run PORT=9000 RECEIVER_PORT=9001; PORT=0 picks free ports for both.
run: $(STAMP)
	$(BIN)/ossemu dev $(if $(PORT),--port $(PORT)) $(if $(RECEIVER_PORT),--receiver-port $(RECEIVER_PORT))

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's picture of the inspector, drawn from a live emulator in headless Chromium;
# make screenshot OUT=/tmp/x.png writes it elsewhere.
screenshot: $(STAMP) browser
	$(BIN)/python -m tests.browser.screenshot $(or $(OUT),docs/inspector.png)

# tests/browser drive Debian's chromium through Debian's chromedriver (the same version, so no
# browser download): installed here when we are root, else those tests skip saying so.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver >/dev/null; \
	  else \
	    echo "browser tests will skip: apt-get install chromium chromium-driver"; \
	  fi; \
	fi

demo: $(STAMP)
	$(BIN)/python -m ossemu.emulator.demo

# Full settings (about half an hour on 2 cores); BENCH_ARGS=--quick for a smoke run.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

stress: $(STAMP)
	OSSEMU_STRESS_ROUNDS=50 OSSEMU_LOAD_SECONDS=60 $(BIN)/python -m pytest tests/reliability -p no:xdist

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy client/

clean:
	rm -rf $(VENV) .ossemu-data .pytest_cache .ruff_cache .mypy_cache .hypothesis bench/out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
