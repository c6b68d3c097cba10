# Chengguan — one command to run, one to test (README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SEED_SCALE ?= district
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core; 0 runs in this process.
TEST_WORKERS ?= auto

.PHONY: install run test bench lint openapi clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（找不到 $(PYTHON)）"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "需要 Node.js 和 npm（用于安装前端库）"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chengguan/static/vendor/.installed: node_modules/.installed scripts/vendor_assets.py $(VENV)/.installed
	$(PY) scripts/vendor_assets.py
	@touch $@

## install: Python packages into .venv and front-end libraries into static files (idempotent)
install: $(VENV)/.installed chengguan/static/vendor/.installed
	@fc-list 2>/dev/null | grep -qi "Noto Serif CJK SC" || echo "提示：未找到中文字体 fonts-noto-cjk（PDF 文书和截图需要）：sudo apt-get install fonts-noto-cjk"
	@test -x /usr/bin/chromium || echo "提示：未找到 Chromium（浏览器测试需要）：sudo apt-get install chromium"

## run: migrate SQLite under var/, seed the demo district when empty, serve on HOST:PORT
run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --scale $(SEED_SCALE) --seed 1
	@$(PY) manage.py seed_demo --print-logins
	@echo "城管执法平台已启动：http://$(HOST):$(PORT)/  （Ctrl+C 停止）"
	$(VENV)/bin/gunicorn chengguan.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - --log-level warning

## test: the whole suite, one process per core (DATABASE_URL=postgres://… runs it on PostgreSQL)
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## bench: speed figures and their ratios to baselines (not pass/fail)
bench: install
	$(PY) -m bench.run

lint: install
	$(VENV)/bin/ruff check .

## openapi: regenerate the committed openapi.yaml after API changes
openapi: install
	$(PY) scripts/check_openapi.py --write

clean:
	rm -rf $(VENV) node_modules chengguan/static/vendor var/static
