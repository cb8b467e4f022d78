# The two commands a newcomer needs (see README.md). Both set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint pytest system-packages python-venv

# Debian ships venv's ensurepip separately (python3-venv); a fresh machine may lack it.
python-venv:
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing: python3-venv"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv; }

$(BIN)/live: pyproject.toml | python-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/live

## Run the service on the embedded engine with the summit event (no Redis needed).
serve: $(BIN)/live
	$(BIN)/live serve $(ARGS)

## Install what the tests need (Redis, Chromium, nginx, CJK fonts for screenshots), then lint, type-check and run every test.
test: system-packages $(BIN)/live lint pytest

system-packages:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: $(BIN)/live
	$(BIN)/ruff check .
	$(BIN)/ruff format --check live
	$(BIN)/mypy

pytest: $(BIN)/live
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
