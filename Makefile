# Two commands do everything on a fresh machine:  make demo   /   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench setup clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@bash scripts/system-deps.sh || true
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/nianbao demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	@mkdir -p var
	$(BIN)/python bench/check.py | tee var/bench-check.txt
	$(BIN)/python bench/scan.py --bodies 5000 --portals 20 --workers 2 | tee var/bench-scan.txt
	$(BIN)/python bench/scan.py --bodies 1000 --portals 20 --latency 0.2 --per-host 2 --concurrency 2 --workers 2 \
		--pdf-every 0 | tee var/bench-latency.txt
	$(BIN)/python bench/scan.py --bodies 1000 --portals 5 --latency 0.2 --per-host 2 --concurrency 2 --workers 2 \
		--pdf-every 0 | tee var/bench-latency-5.txt
	$(BIN)/python bench/urlwatch_compare.py --bodies 5000 --portals 20 | tee var/bench-urlwatch.txt
	$(BIN)/python bench/scorecard.py --bodies 500 | tee var/bench-scorecard.txt

clean:
	rm -rf $(VENV) .pytest_cache
