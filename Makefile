# Two commands do everything on a fresh machine:  make demo   /   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench setup bytecode clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@bash scripts/system-deps.sh || true
	touch $(STAMP)

setup: $(STAMP)

# Our modules byte-compiled (only what changed, ~0.1 s): every process — the service, each analysis worker, each CLI
# call, the tests' subprocesses — then loads them instead of compiling ~0.1-0.2 s of source first. Python does this by
# itself unless PYTHONDONTWRITEBYTECODE is set, as it is on the CI machine. A read-only checkout only loses the speed.
bytecode: $(STAMP)
	-@$(BIN)/python -m compileall -q bot scrapers rules notifiers bench || echo "(modules not byte-compiled: each process compiles them)"

demo: bytecode
	$(BIN)/nianbao demo

test: bytecode
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: bytecode
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
